//! `/duet/pair/1` on real streams: making invites, answering joins, joining
//! (`duet_log::pairing` is the protocol).

use std::time::Duration;

use duet_crypto::{DeviceCertificate, WrappedKey};
use duet_log::pairing::{self, JoinRequest, JoinResponse, PairError, DEFAULT_TICKET_LIFETIME_MS};
use duet_log::{Membership, Payload};
use duet_model::{DeviceId, Invite, InviteKind, Timestamp};
use duet_store::{LocalIdentity, SpaceState};
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use rand_core::{OsRng, RngCore};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::{JOIN_REQUEST_TIME, PAIR_FRAMES};
use crate::{now, Node, NodeError, NodeEvent};

const PAIR_TIMEOUT: Duration = Duration::from_secs(30);

impl Node {
    /// Makes a one-time invite: for my partner, or for another device of mine. Returns the
    /// ticket (one line of text; show it as a QR code too).
    pub async fn invite(&self, kind: InviteKind) -> Result<String, NodeError> {
        let state = self.ensure_space().await?;
        if kind == InviteKind::Partner && state.membership.persons().count() >= 2 {
            return Err(NodeError::AlreadyPaired);
        }
        if kind == InviteKind::OwnDevice && self.shared.person_key.is_none() {
            return Err(NodeError::NotAllowed("only the device that created your profile can link new devices".into()));
        }
        let addrs = self.shared.net.listen_addrs().await?;
        let mut addresses: Vec<String> =
            addrs.iter().map(|a| a.to_string()).filter(|a| !a.contains("/0.0.0.0/") && !a.contains("/::/")).collect();
        addresses.sort_by_key(|a| (a.contains("p2p-circuit"), !a.contains("127.0.0.1")));
        addresses.truncate(pairing::MAX_TICKET_ADDRESSES);
        let mut secret = [0u8; 16];
        OsRng.fill_bytes(&mut secret);
        let invite = Invite {
            space: state.space,
            kind,
            inviter: self.device_id(),
            addresses,
            secret,
            expires_at: Timestamp(now().0 + DEFAULT_TICKET_LIFETIME_MS),
        };
        let ticket = pairing::encode_ticket(&invite);
        self.shared.invites.add(&self.shared.store, invite)?;
        self.refresh_pairing().await?;
        Ok(ticket)
    }

    /// Forgets expired invites; closes pairing when none is left open.
    pub(crate) async fn close_expired_invites(&self) {
        if self.shared.invites.forget_expired(&self.shared.store, now()) {
            let _ = self.refresh_pairing().await;
        }
    }

    /// Answers a join request on an inbound pair stream.
    pub(crate) async fn answer_join(self, device: DeviceId, stream: duet_net::Stream) {
        answer(stream, |req| async move {
            match self.admit(device, req).await {
                Ok(welcome) => welcome,
                Err(e) => JoinResponse::Refused { reason: e.to_string() },
            }
        })
        .await;
    }

    /// Takes `device` in with the invite its request proves, and answers with the welcome.
    ///
    /// Everything is checked before anything is kept (a bad certificate does not use up the
    /// ticket); then the new member and the used invite are kept before the welcome is sent.
    /// The welcome may be lost on the way: the same device asking again with the same ticket
    /// gets the same welcome (`again`), anyone else is refused.
    async fn admit(&self, device: DeviceId, req: JoinRequest) -> Result<JoinResponse, NodeError> {
        let key = self.shared.store.space_key()?.ok_or(NodeError::NoSpace)?;
        let store = &self.shared.store;
        let ((state, (certificate, issued)), again) =
            self.shared.invites.use_for_join(store, &req.space, &device, &req.proof, now(), |kind, again| {
                // Checked and changed under the store's writer lock: a membership event stored
                // meanwhile (a revocation synced from my other device) is not overwritten.
                store
                    .try_update_membership(|membership| self.let_in(membership, kind, again, device, &req))?
                    .ok_or(NodeError::NoSpace)
            })?;
        let wrapped = WrappedKey::wrap(&key, &certificate.device_x25519, &mut OsRng);
        // The keys of the space's key rotations, if any: the history the joiner is about to
        // sync has events sealed with them.
        let later_keys: Vec<Vec<u8>> = self
            .keyring()?
            .later()
            .map(|k| WrappedKey::wrap(k, &certificate.device_x25519, &mut OsRng).encode())
            .collect();
        let members = self.members();
        // The joiner may sync from now on, but nothing is pushed to it yet (`awaiting_welcome`):
        // until it has read the welcome it is no member of anything, and its network would
        // refuse my streams by cutting the connection, the pair stream with it. Its own first
        // stream starts mine.
        self.allow_members(&state.membership).await?;
        if !again {
            // In the log for every device of the space: a new device of mine, or my partner
            // (the one way a person enters: `duet_log::Membership::fold_events`).
            let payload = match issued {
                Some(_) => Payload::DeviceLink { certificate: certificate.encode() },
                None => Payload::PartnerJoin { certificate: certificate.encode() },
            };
            self.write(payload).await?;
            self.emit(NodeEvent::Paired { person: certificate.person, device });
        }
        Ok(JoinResponse::Welcome {
            space: state.space,
            members,
            wrapped_key: wrapped.encode(),
            certificate: issued,
            later_keys,
        })
    }

    /// Lets `device` into `membership` by an invite of `kind` (asked `again` by the same device):
    /// the certificate it is a member by, and the one issued to it (a device of mine) to send
    /// back. A refusal keeps nothing: [`duet_store::Store::try_update_membership`] drops the
    /// changed copy.
    fn let_in(
        &self,
        membership: &mut Membership,
        kind: InviteKind,
        again: bool,
        device: DeviceId,
        req: &JoinRequest,
    ) -> Result<(DeviceCertificate, Option<Vec<u8>>), NodeError> {
        let held = membership.device(&device).map(|d| d.certificate.clone());
        let (certificate, issued) = match kind {
            InviteKind::Partner => {
                let bytes = req
                    .certificate
                    .as_deref()
                    .ok_or(PairError::Refused("a partner must send their device certificate".into()))?;
                let cert =
                    DeviceCertificate::decode(bytes).map_err(|_| PairError::Refused("bad certificate".into()))?;
                cert.verify().map_err(|_| PairError::Refused("bad certificate".into()))?;
                if cert.device != device || cert.device_x25519 != req.device_x25519 {
                    return Err(PairError::Refused("the certificate is not for the device that sent it".into()).into());
                }
                if held.as_ref().is_some_and(|h| h.person != cert.person) {
                    return Err(PairError::Refused("this device already joined as someone else".into()).into());
                }
                if !membership.has_person(&cert.person)
                    && membership.persons().count() >= duet_log::membership::MAX_PEOPLE
                {
                    return Err(PairError::SpaceFull.into());
                }
                membership.add_person(cert.person);
                (cert, None)
            }
            // A device asking again gets the certificate it was issued the first time.
            InviteKind::OwnDevice => match held.filter(|_| again) {
                Some(cert) => (cert.clone(), Some(cert.encode())),
                None => {
                    let person =
                        self.shared.person_key.as_ref().ok_or(NodeError::NotAllowed("no person key here".into()))?;
                    let name =
                        if req.device_name.trim().is_empty() { "another device" } else { req.device_name.trim() };
                    let cert = DeviceCertificate::issue(person, device, req.device_x25519, name, now().0)
                        .map_err(|e| PairError::Refused(e.to_string()))?;
                    (cert.clone(), Some(cert.encode()))
                }
            },
        };
        membership.add_device(certificate.clone()).map_err(|e| PairError::Refused(e.to_string()))?;
        Ok((certificate, issued))
    }

    /// Joins with a ticket: pairs with my partner, or links this device to my profile. Returns
    /// once this device is a member.
    pub async fn join(&self, ticket: &str) -> Result<(), NodeError> {
        let invite = pairing::decode_ticket(ticket)?;
        if now() > invite.expires_at {
            return Err(PairError::Expired.into());
        }
        if self.shared.store.space()?.is_some() {
            return Err(NodeError::AlreadyPaired);
        }
        let mut identity = self.shared.store.identity()?.ok_or(NodeError::NotInitialized)?;
        let certificate = match invite.kind {
            InviteKind::Partner => Some(identity.certificate.clone().ok_or(NodeError::NotAllowed(
                "this device was set up to join your own profile (init --device-only); use a device invite".into(),
            ))?),
            InviteKind::OwnDevice => {
                if identity.person.is_some() {
                    return Err(NodeError::NotAllowed(
                        "this device already has its own profile; a device invite is for a new device (`duet init --device-only`)".into(),
                    ));
                }
                None
            }
        };
        let addrs = invite.addresses.iter().filter_map(|a| a.parse().ok()).collect();
        self.add_peer_addresses(invite.inviter, addrs).await?;
        let request = JoinRequest {
            space: invite.space,
            proof: pairing::proof(&invite.secret, &invite.space, &self.device_id()),
            device_x25519: self.shared.device.x25519_public(),
            certificate: certificate.as_ref().map(|c| c.encode()),
            device_name: crate::device_name(),
        };
        let answer = tokio::time::timeout(PAIR_TIMEOUT, async {
            let mut stream = self.shared.net.open_stream(invite.inviter, duet_net::DuetProtocol::Pair).await.map_err(
                |e| match e {
                    // Reached, but the stream was refused: pairing is closed there.
                    duet_net::NetError::Stream { .. } | duet_net::NetError::Unsupported { .. } => {
                        no_answer(Some(std::io::Error::other(e)))
                    }
                    e => NodeError::NotAllowed(format!(
                        "could not reach the device that made this invite ({e}). Check that Duet is running there \
                         and that both computers are online"
                    )),
                },
            )?;
            ask(&mut stream, &request).await
        })
        .await
        .map_err(|_| NodeError::Timeout)??;
        let (space, members, wrapped_key, issued, later_keys) = match answer {
            JoinResponse::Welcome { space, members, wrapped_key, certificate, later_keys } => {
                (space, members, wrapped_key, certificate, later_keys)
            }
            JoinResponse::Refused { reason } => return Err(PairError::Refused(reason).into()),
        };
        let key = WrappedKey::decode(&wrapped_key)
            .and_then(|w| w.unwrap(&self.shared.device))
            .map_err(|_| PairError::Refused("the space key could not be opened".into()))?;
        let later_keys = later_keys
            .iter()
            .map(|w| WrappedKey::decode(w).and_then(|w| w.unwrap(&self.shared.device)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| PairError::Refused("one of the space's keys could not be opened".into()))?;
        let mut membership = Membership::new(space, members.persons.iter().copied());
        for c in &members.certificates {
            if let Ok(cert) = DeviceCertificate::decode(c) {
                let _ = membership.add_device(cert);
            }
        }
        let my_cert = match (certificate, issued) {
            (Some(c), _) => c,
            (None, Some(bytes)) => {
                let c = DeviceCertificate::decode(&bytes).map_err(|_| PairError::Refused("bad certificate".into()))?;
                if c.device != self.device_id() || c.verify().is_err() {
                    return Err(PairError::Refused("the certificate is not for this device".into()).into());
                }
                c
            }
            (None, None) => return Err(PairError::Refused("no certificate for this device".into()).into()),
        };
        if !membership.has_person(&my_cert.person) {
            membership.add_person(my_cert.person);
        }
        membership.add_device(my_cert.clone()).map_err(|e| PairError::Refused(e.to_string()))?;
        identity.certificate = Some(my_cert.clone());
        let display_name = identity.display_name.clone();
        self.shared.store.save_identity(&LocalIdentity { ..identity })?;
        let state = SpaceState { space, membership };
        // The later keys first: the space (what makes this device a member) last.
        self.shared.store.save_later_keys(&later_keys)?;
        self.shared.store.save_space(&state, &key)?;
        self.update_members(&state.membership).await?;
        if invite.kind == InviteKind::Partner && !display_name.is_empty() {
            self.write(Payload::ProfileUpdate { display_name: Some(display_name), avatar: None }).await?;
        }
        self.emit(NodeEvent::Paired { person: my_cert.person, device: self.device_id() });
        Ok(())
    }
}

/// The inviter's side of one `/duet/pair/1` stream: reads one join request (waiting at most
/// [`JOIN_REQUEST_TIME`]), answers it with what `admit` says (a request that does not decode
/// is refused in words), and closes the stream. A stream that sends nothing gets nothing.
pub(crate) async fn answer<S, F>(mut stream: S, admit: impl FnOnce(JoinRequest) -> F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: std::future::Future<Output = JoinResponse>,
{
    let answer = match tokio::time::timeout(JOIN_REQUEST_TIME, read_frame(&mut stream, PAIR_FRAMES)).await {
        Ok(Ok(Some(frame))) => match JoinRequest::decode(&frame) {
            Ok(req) => admit(req).await,
            Err(e) => JoinResponse::Refused { reason: e.to_string() },
        },
        _ => return,
    };
    let _ = write_frame(&mut stream, &answer.encode()).await;
    let _ = stream.close().await;
}

/// The joiner's side: sends `request` and reads the answer. The inviter answers once it has
/// stored the new member, so the answer may take the whole [`PAIR_TIMEOUT`].
pub(crate) async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &JoinRequest,
) -> Result<JoinResponse, NodeError> {
    write_frame(stream, &request.encode()).await.map_err(|e| no_answer(Some(e)))?;
    let frame = read_frame(stream, FrameRules { idle: PAIR_TIMEOUT, ..PAIR_FRAMES })
        .await
        .map_err(|e| no_answer(Some(e)))?
        .ok_or_else(|| no_answer(None))?;
    Ok(JoinResponse::decode(&frame)?)
}

/// Why a join got no answer: the inviter refuses the pairing protocol unless an invite is open
/// there, so a used, cancelled or expired ticket ends this way (or the network failed).
fn no_answer(detail: Option<std::io::Error>) -> NodeError {
    let detail = detail.map(|e| format!(" ({e})")).unwrap_or_default();
    NodeError::NotAllowed(format!(
        "the device that made this invite did not answer it: the invite is not open there any more (it was already \
         used, cancelled, or has expired), or Duet stopped there. Ask for a new invite{detail}"
    ))
}

#[cfg(test)]
mod tests {
    use duet_log::Members;
    use duet_model::SpaceId;

    use super::*;
    use crate::frames::pipe;

    fn request(name: &str) -> JoinRequest {
        JoinRequest {
            space: SpaceId([1; 16]),
            proof: [2; 32],
            device_x25519: [3; 32],
            certificate: None,
            device_name: name.into(),
        }
    }

    #[tokio::test]
    async fn the_joiner_gets_what_the_inviter_admits() {
        let (joiner, inviter) = pipe();
        let welcome = JoinResponse::Welcome {
            space: SpaceId([1; 16]),
            members: Members::default(),
            wrapped_key: vec![9; 80],
            certificate: Some(vec![7; 100]),
            later_keys: vec![vec![6; 105]],
        };
        let expected = welcome.clone();
        let answering = answer(inviter, |req| async move {
            assert_eq!(req, request("laptop"), "the request arrives as sent");
            welcome
        });
        let asking = async {
            let mut joiner = joiner;
            ask(&mut joiner, &request("laptop")).await
        };
        let ((), answer) = tokio::join!(answering, asking);
        assert_eq!(answer.unwrap(), expected);
    }

    #[tokio::test]
    async fn a_request_that_does_not_decode_is_refused_in_words_without_admitting() {
        let (mut joiner, inviter) = pipe();
        let answering = answer(inviter, |_| async { panic!("admitted garbage") });
        let asking = async {
            write_frame(&mut joiner, &[0xff; 50]).await.unwrap();
            let frame = read_frame(&mut joiner, PAIR_FRAMES).await.unwrap().expect("an answer");
            JoinResponse::decode(&frame).unwrap()
        };
        let ((), answer) = tokio::join!(answering, asking);
        assert!(matches!(answer, JoinResponse::Refused { reason } if !reason.is_empty()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_joiner_that_says_nothing_gets_nothing_and_the_stream_closes() {
        let (mut joiner, inviter) = pipe();
        let answering = answer(inviter, |_| async { panic!("nothing was asked") });
        let waiting = async { read_frame(&mut joiner, FrameRules { idle: PAIR_TIMEOUT, ..PAIR_FRAMES }).await };
        let ((), heard) = tokio::join!(answering, waiting);
        assert!(matches!(heard, Ok(None)), "{heard:?}");
    }

    #[tokio::test]
    async fn an_inviter_that_hangs_up_is_said_in_words() {
        let (mut joiner, inviter) = pipe();
        drop(inviter);
        let e = ask(&mut joiner, &request("laptop")).await.unwrap_err();
        assert!(e.to_string().contains("did not answer"), "{e}");
    }
}
