//! `flv::config` Aac record parser: any input either fails with an error or
//! parses to a record whose serialization parses back equal; the accessors and the
//! codec string never panic.
#![no_main]

use flv::config::{CodecConfig, ConfigKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = CodecConfig::parse(ConfigKind::Aac, data) {
        let bytes = config.to_bytes();
        let again = CodecConfig::parse(ConfigKind::Aac, &bytes).expect("written record parses");
        assert_eq!(again, config);
        assert_eq!(again.to_bytes(), bytes);
        let _ = (
            config.codec_string(),
            config.video_info(),
            config.sample_rate(),
            config.channels(),
        );
    }
});
