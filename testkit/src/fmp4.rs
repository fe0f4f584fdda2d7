//! An independent check of fragmented MP4 timing: each track's `tfdt` in a
//! fragment equals the previous fragment's `tfdt` plus the durations of its
//! samples (what ISO BMFF readers warn about as "tfdt less than cumulated
//! timing" when it fails). A small box walker written for the test, not the
//! muxer's own code, so the check does not share the muxer's mistakes.

use std::collections::HashMap;

/// One track's run in one `moof`.
#[derive(Debug)]
struct Run {
    track: u32,
    tfdt: u64,
    duration: u64,
}

/// Boxes as (type, body).
type Boxes<'a> = Vec<([u8; 4], &'a [u8])>;

/// The boxes directly inside `data`.
fn boxes(data: &[u8]) -> Result<Boxes<'_>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(format!("{} trailing bytes, not a box", rest.len()));
        }
        let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (header, size) = match size {
            1 if rest.len() >= 16 => {
                let mut large = [0; 8];
                large.copy_from_slice(&rest[8..16]);
                (16, u64::from_be_bytes(large))
            }
            0 => (8, rest.len() as u64),
            size => (8, size),
        };
        let size = usize::try_from(size).map_err(|_| "box too large".to_owned())?;
        if size < header || size > rest.len() {
            return Err(format!(
                "box {} of {size} bytes with {} left",
                String::from_utf8_lossy(&kind),
                rest.len()
            ));
        }
        out.push((kind, &rest[header..size]));
        rest = &rest[size..];
    }
    Ok(out)
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, String> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format!("short box: no u32 at {at}"))
}

fn u64_at(data: &[u8], at: usize) -> Result<u64, String> {
    Ok((u64::from(u32_at(data, at)?) << 32) | u64::from(u32_at(data, at + 4)?))
}

/// Default sample durations per track from the init segment's `trex` boxes.
fn trex_defaults(init: &[u8]) -> Result<HashMap<u32, u32>, String> {
    let mut defaults = HashMap::new();
    for (kind, moov) in boxes(init)? {
        if &kind != b"moov" {
            continue;
        }
        for (kind, mvex) in boxes(moov)? {
            if &kind != b"mvex" {
                continue;
            }
            for (kind, trex) in boxes(mvex)? {
                if &kind == b"trex" {
                    defaults.insert(u32_at(trex, 4)?, u32_at(trex, 12)?);
                }
            }
        }
    }
    Ok(defaults)
}

/// The runs of one `traf`.
fn traf_run(traf: &[u8], trex: &HashMap<u32, u32>) -> Result<Run, String> {
    let mut track = None;
    let mut default_duration = None;
    let mut tfdt = None;
    let mut duration = 0u64;
    for (kind, body) in boxes(traf)? {
        match &kind {
            b"tfhd" => {
                let flags = u32_at(body, 0)? & 0x00ff_ffff;
                let id = u32_at(body, 4)?;
                let mut at = 8;
                at += if flags & 0x01 != 0 { 8 } else { 0 };
                at += if flags & 0x02 != 0 { 4 } else { 0 };
                if flags & 0x08 != 0 {
                    default_duration = Some(u32_at(body, at)?);
                }
                track = Some(id);
            }
            b"tfdt" => {
                tfdt = Some(match body.first() {
                    Some(1) => u64_at(body, 4)?,
                    _ => u64::from(u32_at(body, 4)?),
                });
            }
            b"trun" => {
                let id = track.ok_or("trun before tfhd")?;
                let fallback = default_duration.or_else(|| trex.get(&id).copied());
                duration += trun_duration(body, fallback)?;
            }
            _ => {}
        }
    }
    Ok(Run {
        track: track.ok_or("traf without tfhd")?,
        tfdt: tfdt.ok_or("traf without tfdt")?,
        duration,
    })
}

/// The sum of a `trun`'s sample durations.
fn trun_duration(trun: &[u8], default: Option<u32>) -> Result<u64, String> {
    let flags = u32_at(trun, 0)? & 0x00ff_ffff;
    let count = u32_at(trun, 4)? as usize;
    let mut at = 8;
    at += if flags & 0x01 != 0 { 4 } else { 0 };
    at += if flags & 0x04 != 0 { 4 } else { 0 };
    let per_sample = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count()
        * 4;
    if flags & 0x100 == 0 {
        let default = default.ok_or("no sample duration anywhere")?;
        return Ok(u64::from(default) * count as u64);
    }
    let mut total = 0;
    for sample in 0..count {
        total += u64::from(u32_at(trun, at + sample * per_sample)?);
    }
    Ok(total)
}

/// Checks the fragments of `media` (segments or parts in playlist order, all
/// under the init segment `init`): for every track, each fragment's `tfdt`
/// equals the previous one's plus its sample durations. Returns the number
/// of track runs checked, or the first break.
pub fn check_timeline<'a>(
    init: &[u8],
    media: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<usize, String> {
    let trex = trex_defaults(init)?;
    let mut ends: HashMap<u32, u64> = HashMap::new();
    let mut checked = 0;
    for (name, data) in media {
        for (kind, moof) in boxes(data).map_err(|e| format!("{name}: {e}"))? {
            if &kind != b"moof" {
                continue;
            }
            for (kind, traf) in boxes(moof)? {
                if &kind != b"traf" {
                    continue;
                }
                let run = traf_run(traf, &trex).map_err(|e| format!("{name}: {e}"))?;
                if let Some(&end) = ends.get(&run.track) {
                    if run.tfdt != end {
                        return Err(format!(
                            "{name}: track {} tfdt {} but the previous fragments end at {end} \
                             ({:+} ticks)",
                            run.track,
                            run.tfdt,
                            run.tfdt as i64 - end as i64
                        ));
                    }
                    checked += 1;
                }
                ends.insert(run.track, run.tfdt + run.duration);
            }
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A moof with one traf of track 1: `tfdt` and samples of `durations`.
    fn moof(tfdt: u64, durations: &[u32]) -> Vec<u8> {
        let tfhd = boxed(b"tfhd", &[0, 0, 0, 0, 0, 0, 0, 1]);
        let mut tfdt_body = vec![1, 0, 0, 0];
        tfdt_body.extend_from_slice(&tfdt.to_be_bytes());
        let mut trun = vec![0, 0, 0x01, 0x00];
        trun.extend_from_slice(&(durations.len() as u32).to_be_bytes());
        for d in durations {
            trun.extend_from_slice(&d.to_be_bytes());
        }
        let traf = [tfhd, boxed(b"tfdt", &tfdt_body), boxed(b"trun", &trun)].concat();
        boxed(b"moof", &boxed(b"traf", &traf))
    }

    #[test]
    fn a_tfdt_off_by_one_tick_is_a_break() {
        let init = boxed(b"moov", &[]);
        let (a, b) = (moof(0, &[3000, 3000]), moof(6000, &[3000]));
        let good = [("a", a.as_slice()), ("b", b.as_slice())];
        assert_eq!(check_timeline(&init, good), Ok(1));
        let late = moof(6001, &[3000]);
        let broken = [("a", a.as_slice()), ("late", late.as_slice())];
        let error = check_timeline(&init, broken).unwrap_err();
        assert!(error.contains("late: track 1 tfdt 6001"), "{error}");
        assert!(check_timeline(&init, [("junk", &[0u8, 0, 0, 9][..])]).is_err());
    }
}
