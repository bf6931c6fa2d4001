//! Event runs: the consecutive events of one author that one batch wrote, packed into one sled
//! value under (author, first seq). `count:varint | (length:varint | body)*`. Bodies are the
//! signed bytes exactly as received.

use duet_log::SealedEvent;
use duet_model::DeviceId;

use crate::StoreError;

pub(crate) fn encode(bodies: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bodies.iter().map(|b| b.len() + 3).sum::<usize>() + 3);
    varint(&mut out, bodies.len() as u64);
    for b in bodies {
        varint(&mut out, b.len() as u64);
        out.extend_from_slice(b);
    }
    out
}

/// The events of a run, starting at `first_seq`, from the `skip`-th on.
pub(crate) fn decode(author: DeviceId, first_seq: u64, run: &[u8], skip: u64) -> Result<Vec<SealedEvent>, StoreError> {
    let bodies = bodies(run)?;
    let mut out = Vec::with_capacity(bodies.len().saturating_sub(usize::try_from(skip).unwrap_or(usize::MAX)));
    for (i, body) in (0u64..).zip(bodies).skip_while(|(i, _)| *i < skip) {
        let event = SealedEvent::decode(author, first_seq + i, body.to_vec())
            .map_err(|_| StoreError::Corrupt("a stored event does not decode"))?;
        out.push(event);
    }
    Ok(out)
}

/// The bodies of a run, as stored (merging runs copies them without decoding the events).
pub(crate) fn bodies(run: &[u8]) -> Result<Vec<&[u8]>, StoreError> {
    let mut pos = 0;
    let count = read_varint(run, &mut pos)?;
    let mut out = Vec::with_capacity(count.min(4096) as usize);
    for _ in 0..count {
        let len = read_varint(run, &mut pos)? as usize;
        let end = pos.checked_add(len).ok_or(StoreError::Corrupt("an event run has a bad length"))?;
        out.push(run.get(pos..end).ok_or(StoreError::Corrupt("an event run is truncated"))?);
        pos = end;
    }
    Ok(out)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, StoreError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(StoreError::Corrupt("an event run is truncated"))?;
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(StoreError::Corrupt("an event run has a bad length"))
}
