//! Length-prefixed frames on a stream: `length:u32 big-endian | bytes`.
//!
//! What a peer declares costs nothing: a frame longer than the protocol's bound is refused
//! before anything is allocated, and a frame within it is read into a buffer that grows with
//! the bytes that actually arrive (never more than twice what came, plus [`FIRST_READ`]). A
//! stream that goes quiet for the protocol's idle time, between frames or inside one, is
//! given up, so a peer that declares a frame and trickles it (or says nothing) holds no task
//! and no buffer for long.

use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use std::io;

/// How much room a frame's buffer starts with; it doubles as bytes arrive.
const FIRST_READ: usize = 4 * 1024;

/// The bounds of one protocol's frames.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameRules {
    /// The longest frame accepted.
    pub max: usize,
    /// The longest a stream may stay silent, waiting for a frame or inside one.
    pub idle: Duration,
}

/// Writes one frame and flushes it.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(bytes).await?;
    w.flush().await
}

/// One read that fails with `TimedOut` after `idle` without a byte.
async fn read_some<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8], idle: Duration) -> io::Result<usize> {
    match tokio::time::timeout(idle, r.read(buf)).await {
        Ok(read) => read,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the other device sent nothing for {} s", idle.as_secs()),
        )),
    }
}

/// Reads one frame; `None` when the stream ended cleanly between frames.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, rules: FrameRules) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = read_some(r, &mut len[got..], rules.idle).await?;
        if n == 0 {
            return if got == 0 { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        got += n;
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > rules.max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {len}-byte frame is over the {}-byte limit", rules.max),
        ));
    }
    // The buffer doubles when full (from FIRST_READ), so it holds at most twice what came
    // and zeroes each byte once.
    let mut buf = Vec::new();
    let mut filled = 0;
    while filled < len {
        if filled == buf.len() {
            let grow = filled.max(FIRST_READ).min(len - filled);
            buf.resize(filled + grow, 0);
        }
        let n = read_some(r, &mut buf[filled..], rules.idle).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
    }
    Ok(Some(buf))
}

/// Two ends of an in-memory stream, for protocol sessions' tests: what one writes the other
/// reads, both ways, with no socket.
#[cfg(test)]
pub(crate) fn pipe(
) -> (tokio_util::compat::Compat<tokio::io::DuplexStream>, tokio_util::compat::Compat<tokio::io::DuplexStream>) {
    use tokio_util::compat::TokioAsyncReadCompatExt;
    let (a, b) = tokio::io::duplex(64 * 1024);
    (a.compat(), b.compat())
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;

    const RULES: FrameRules = FrameRules { max: 64 * 1024, idle: Duration::from_secs(10) };

    fn framed(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    /// A peer that hands over `bytes` one at a time, then (if `stall`) goes silent for good
    /// instead of closing. It notes the most room it was offered beyond what it gave.
    struct Trickle {
        bytes: Vec<u8>,
        given: usize,
        stall: bool,
        /// (bytes given so far, room offered) at every read.
        offers: Vec<(usize, usize)>,
    }

    impl AsyncRead for Trickle {
        fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            let given = self.given;
            self.offers.push((given, buf.len()));
            match self.bytes.get(given) {
                Some(&b) => {
                    buf[0] = b;
                    self.given += 1;
                    Poll::Ready(Ok(1))
                }
                None if self.stall => Poll::Pending,
                None => Poll::Ready(Ok(0)),
            }
        }
    }

    #[tokio::test]
    async fn frames_round_trip_and_a_clean_end_is_none() {
        let payload: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_frame(&mut wire, &payload).await.unwrap();
        write_frame(&mut wire, b"").await.unwrap();
        let mut r = &wire[..];
        assert_eq!(read_frame(&mut r, RULES).await.unwrap(), Some(payload));
        assert_eq!(read_frame(&mut r, RULES).await.unwrap(), Some(vec![]));
        assert_eq!(read_frame(&mut r, RULES).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_refused_in_words() {
        let bytes = (RULES.max as u32 + 1).to_be_bytes();
        let err = read_frame(&mut &bytes[..], RULES).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("65537-byte frame is over the 65536-byte limit"), "{err}");
    }

    #[tokio::test]
    async fn a_short_frame_is_an_unexpected_end() {
        let mut bytes = framed(&[1; 100]);
        bytes.truncate(50);
        let err = read_frame(&mut &bytes[..], RULES).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// A peer that declares 64 KiB and sends ten bytes is offered 4 KiB of room, not 64, and
    /// once it stays silent for the idle time it is given up, in words.
    #[tokio::test(start_paused = true)]
    async fn a_declared_frame_costs_what_arrives_and_a_silent_peer_is_given_up() {
        let mut bytes = (RULES.max as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&[7; 10]);
        let mut peer = Trickle { bytes, given: 0, stall: true, offers: vec![] };
        let err = read_frame(&mut peer, RULES).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("sent nothing for 10 s"), "{err}");
        let most = peer.offers.iter().map(|(given, room)| given + room).max().unwrap();
        assert!(most <= 4 + FIRST_READ, "{most} bytes of room for a peer that sent 14");
    }

    #[tokio::test]
    async fn a_buffer_never_holds_more_than_twice_what_came() {
        let body: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
        let mut peer = Trickle { bytes: framed(&body), given: 0, stall: false, offers: vec![] };
        assert_eq!(read_frame(&mut peer, RULES).await.unwrap(), Some(body));
        for (given, room) in peer.offers.into_iter().filter(|(given, _)| *given >= 4) {
            let held = given - 4;
            assert!(held + room <= (2 * held).max(held + FIRST_READ), "{room} bytes of room with {held} held");
        }
    }
}
