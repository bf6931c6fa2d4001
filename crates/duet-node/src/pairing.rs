//! `/duet/pair/1` on real streams: making invites, answering joins, joining
//! (`duet_log::pairing` is the protocol).

use std::time::Duration;

use duet_crypto::{DeviceCertificate, WrappedKey};
use duet_log::pairing::{self, JoinRequest, JoinResponse, PairError, DEFAULT_TICKET_LIFETIME_MS};
use duet_log::{Membership, Payload};
use duet_model::{DeviceId, Invite, InviteKind, Timestamp};
use duet_store::{LocalIdentity, SpaceState};
use rand_core::{OsRng, RngCore};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::{JOIN_REQUEST_TIME, PAIR_FRAMES};
use crate::{lock, now, Node, NodeError, NodeEvent};

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
        {
            let mut invites = lock(&self.shared.invites);
            invites.push((invite, false));
            self.shared.store.save_invites(&invites)?;
        }
        self.shared.net.set_pairing_open(true).await?;
        Ok(ticket)
    }

    /// The invites kept from before a restart that have not expired: pairing opens again
    /// for them.
    pub(crate) async fn reopen_invites(&self) -> Result<(), NodeError> {
        let at = now();
        let kept: Vec<(Invite, bool)> =
            self.shared.store.invites()?.into_iter().filter(|(i, _)| i.expires_at >= at).collect();
        if kept.is_empty() {
            return Ok(());
        }
        *lock(&self.shared.invites) = kept;
        self.shared.net.set_pairing_open(true).await?;
        Ok(())
    }

    /// Forgets expired invites; closes pairing when none is left.
    pub(crate) async fn close_expired_invites(&self) {
        let close = {
            let mut invites = lock(&self.shared.invites);
            let had = invites.len();
            let at = now();
            invites.retain(|(i, _)| i.expires_at >= at);
            if invites.len() < had {
                if let Err(e) = self.shared.store.save_invites(&invites) {
                    tracing::warn!("could not forget expired invites: {e}");
                }
            }
            had > 0 && invites.is_empty()
        };
        if close {
            let _ = self.shared.net.set_pairing_open(false).await;
        }
    }

    /// Answers a join request on an inbound pair stream.
    pub(crate) async fn answer_join(self, device: DeviceId, mut stream: duet_net::Stream) {
        let answer = match tokio::time::timeout(JOIN_REQUEST_TIME, read_frame(&mut stream, PAIR_FRAMES)).await {
            Ok(Ok(Some(frame))) => match JoinRequest::decode(&frame) {
                Ok(req) => match self.admit(device, req).await {
                    Ok(welcome) => welcome,
                    Err(e) => JoinResponse::Refused { reason: e.to_string() },
                },
                Err(e) => JoinResponse::Refused { reason: e.to_string() },
            },
            _ => return,
        };
        let _ = write_frame(&mut stream, &answer.encode()).await;
        let _ = futures::AsyncWriteExt::close(&mut stream).await;
    }

    async fn admit(&self, device: DeviceId, req: JoinRequest) -> Result<JoinResponse, NodeError> {
        let invite = {
            let mut invites = lock(&self.shared.invites);
            let at = now();
            let found = invites.iter().position(|(i, _)| {
                i.space == req.space && pairing::check_join(i, false, Timestamp(0), &device, &req.proof).is_ok()
            });
            let Some(i) = found else { return Err(PairError::WrongTicket.into()) };
            let (invite, used) = &invites[i];
            pairing::check_join(invite, *used, at, &device, &req.proof)?;
            invites[i].1 = true;
            // Used for good, even if this device restarts.
            self.shared.store.save_invites(&invites)?;
            invites[i].0.clone()
        };
        // Pairing stays open until every invite has expired (see `close_expired_invites`), so
        // someone holding a used or wrong ticket hears why instead of being cut off.
        let mut state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
        let key = self.shared.store.space_key()?.ok_or(NodeError::NoSpace)?;
        let (certificate, issued) = match invite.kind {
            InviteKind::Partner => {
                let bytes =
                    req.certificate.ok_or(PairError::Refused("a partner must send their device certificate".into()))?;
                let cert =
                    DeviceCertificate::decode(&bytes).map_err(|_| PairError::Refused("bad certificate".into()))?;
                cert.verify().map_err(|_| PairError::Refused("bad certificate".into()))?;
                if cert.device != device || cert.device_x25519 != req.device_x25519 {
                    return Err(PairError::Refused("the certificate is not for the device that sent it".into()).into());
                }
                state.membership.add_person(cert.person);
                (cert, None)
            }
            InviteKind::OwnDevice => {
                let person =
                    self.shared.person_key.as_ref().ok_or(NodeError::NotAllowed("no person key here".into()))?;
                let name = if req.device_name.trim().is_empty() { "another device" } else { req.device_name.trim() };
                let cert = DeviceCertificate::issue(person, device, req.device_x25519, name, now().0)
                    .map_err(|e| PairError::Refused(e.to_string()))?;
                (cert.clone(), Some(cert.encode()))
            }
        };
        state.membership.add_device(certificate.clone()).map_err(|e| PairError::Refused(e.to_string()))?;
        self.shared.store.save_space(&state, &key)?;
        let wrapped = WrappedKey::wrap(&key, &certificate.device_x25519, &mut OsRng);
        let members = self.members();
        // The joiner may sync from now on, but nothing is pushed to it yet: until it has read
        // the welcome it is no member of anything, and its network would refuse my streams by
        // cutting the connection, the pair stream with it. Its own first push starts mine.
        self.allow_members(&state.membership).await?;
        if issued.is_some() {
            self.write(Payload::DeviceLink { certificate: certificate.encode() }).await?;
        }
        self.emit(NodeEvent::Paired { person: certificate.person, device });
        Ok(JoinResponse::Welcome { space: state.space, members, wrapped_key: wrapped.encode(), certificate: issued })
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
            let mut stream =
                self.shared.net.open_stream(invite.inviter, duet_net::DuetProtocol::Pair).await.map_err(|e| {
                    NodeError::NotAllowed(format!(
                        "could not reach the device that made this invite ({e}). Check that Duet is running there; \
                         an invite made before it restarted no longer works"
                    ))
                })?;
            write_frame(&mut stream, &request.encode())
                .await
                .map_err(|e| NodeError::NotAllowed(format!("pairing: {e}")))?;
            // The inviter answers once it has stored the new member: give it the whole time.
            let frame = read_frame(&mut stream, FrameRules { idle: PAIR_TIMEOUT, ..PAIR_FRAMES })
                .await
                .map_err(|e| NodeError::NotAllowed(format!("pairing: {e}")))?
                .ok_or_else(|| NodeError::NotAllowed("the other device closed the connection".into()))?;
            Ok::<_, NodeError>(JoinResponse::decode(&frame)?)
        })
        .await
        .map_err(|_| NodeError::Timeout)??;
        let (space, members, wrapped_key, issued) = match answer {
            JoinResponse::Welcome { space, members, wrapped_key, certificate } => {
                (space, members, wrapped_key, certificate)
            }
            JoinResponse::Refused { reason } => return Err(PairError::Refused(reason).into()),
        };
        let key = WrappedKey::decode(&wrapped_key)
            .and_then(|w| w.unwrap(&self.shared.device))
            .map_err(|_| PairError::Refused("the space key could not be opened".into()))?;
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
        self.shared.store.save_space(&state, &key)?;
        self.update_members(&state.membership).await?;
        if invite.kind == InviteKind::Partner && !display_name.is_empty() {
            self.write(Payload::ProfileUpdate { display_name: Some(display_name), avatar: None }).await?;
        }
        self.emit(NodeEvent::Paired { person: my_cert.person, device: self.device_id() });
        Ok(())
    }
}
