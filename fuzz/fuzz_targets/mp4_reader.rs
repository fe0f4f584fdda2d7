//! `media_probe::mp4::Mp4Reader` on arbitrary bytes: box sizes, counts,
//! tables and runs that lie. It never panics, and it allocates no sample
//! past the input's end (a lying size is an error, not a 64 MiB buffer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_probe::mp4::Mp4Reader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = Mp4Reader::new(std::io::Cursor::new(data)) else {
        return;
    };
    // Every sample of a valid index lies inside the input, so the events
    // cannot outnumber its bytes (plus the configurations).
    let mut events = 0usize;
    while let Some(event) = reader.next_event() {
        events += 1;
        if event.is_err() {
            continue;
        }
        assert!(events <= data.len() + 256, "more events than bytes");
    }
});
