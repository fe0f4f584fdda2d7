//! A stream's objects in object storage ([`crate::store`]): its init
//! segments and finished segments, a playlist of every segment since the
//! stream began (`EXT-X-PLAYLIST-TYPE:EVENT`, no parts: what plays from the
//! bucket's HTTP endpoint), and its recordings. Without the `store` feature
//! (or `Config::store`) nothing here does anything.
//!
//! When a cluster's node takes a key over ([`Bucket::continue_previous`]),
//! the playlist already in the bucket (the previous node's) is read and its
//! segments stay listed before this node's, after a discontinuity: the
//! bucket's playlist is the whole stream, as its viewers saw it.

use std::path::Path;

use bytes::Bytes;
use hls_mux::playlist::Segment;

/// The uploader every stream shares (none without a store).
#[derive(Clone, Debug, Default)]
pub struct StoreHandle(#[cfg(feature = "store")] pub Option<std::sync::Arc<crate::store::Store>>);

/// One stream's objects.
#[derive(Debug)]
pub struct Bucket {
    #[cfg(feature = "store")]
    store: std::sync::Arc<crate::store::Store>,
    #[cfg(feature = "store")]
    key: String,
    #[cfg(feature = "store")]
    playlist: hls_mux::playlist::MediaPlaylist,
    /// The previous node's playlist in the bucket, once read (the lines
    /// from its first segment on, without `EXT-X-ENDLIST`), and its first
    /// media sequence number.
    #[cfg(feature = "store")]
    previous: std::sync::Arc<std::sync::Mutex<Option<(u64, String)>>>,
}

#[cfg(feature = "store")]
impl Bucket {
    /// The objects of stream `key` (`APP/NAME`), if there is a store.
    pub fn new(handle: &StoreHandle, key: &str, target_duration: f64) -> Option<Bucket> {
        use hls_mux::playlist::{MediaPlaylist, MediaPlaylistOptions, PlaylistKind};
        let store = handle.0.clone()?;
        let options = MediaPlaylistOptions::new(PlaylistKind::Event, target_duration);
        let playlist = MediaPlaylist::new(options).ok()?;
        Some(Bucket {
            store,
            key: key.to_owned(),
            playlist,
            previous: Default::default(),
        })
    }

    /// Reads the playlist the bucket holds for this key (another node's,
    /// before it died or its publisher moved) to keep its segments listed.
    pub fn continue_previous(&self) {
        let store = self.store.clone();
        let name = self.store.object_name(&self.key, "index.m3u8");
        let previous = self.previous.clone();
        tokio::spawn(async move {
            if let Some(text) = store.get_text(&name).await {
                let split = split_playlist(&text);
                *previous.lock().unwrap_or_else(|p| p.into_inner()) = split;
            }
        });
    }

    fn put(&self, file: &str, data: &[Bytes]) {
        self.store
            .put(self.store.object_name(&self.key, file), data);
    }

    /// An init segment.
    pub fn init(&self, uri: &str, data: &Bytes) {
        self.put(uri, std::slice::from_ref(data));
    }

    /// A finished segment (`segment` as the live playlist lists it), then
    /// the playlist that lists it.
    pub fn segment(&mut self, segment: Segment, data: &[Bytes]) {
        self.put(&segment.uri, data);
        if self.playlist.push_segment(segment).is_ok() {
            self.put_playlist();
        }
    }

    fn put_playlist(&self) {
        let own = self.playlist.render();
        let previous = self.previous.lock().unwrap_or_else(|p| p.into_inner());
        let text = match previous.as_ref() {
            Some((first, body)) => join_playlists(&own, *first, body),
            None => own,
        };
        self.put("index.m3u8", &[Bytes::from(text)]);
    }

    /// The publisher left: the playlist ends.
    pub fn end(&mut self) {
        self.playlist.end();
        self.put_playlist();
    }

    /// A publisher came back: the playlist goes on.
    pub fn resume(&mut self) {
        self.playlist.resume();
    }

    /// A finished recording, uploaded from where it was written.
    pub fn recording(&self, path: &Path) {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            return;
        };
        let name = self.store.object_name(&self.key, file);
        self.store.put_file(name, path.to_owned());
    }
}

/// Playlist-wide tags: everything else, from the first line of a segment on,
/// belongs to the segments.
#[cfg(feature = "store")]
const HEADER_TAGS: [&str; 8] = [
    "#EXTM3U",
    "#EXT-X-VERSION",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START",
];

/// (first media sequence number, the lines from the first segment on
/// without `EXT-X-ENDLIST`) of a playlist; `None` without a segment.
#[cfg(feature = "store")]
fn split_playlist(text: &str) -> Option<(u64, String)> {
    let first = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let is_header = |line: &str| HEADER_TAGS.iter().any(|tag| line.starts_with(tag));
    let body: String = text
        .lines()
        .skip_while(|line| is_header(line) || line.is_empty())
        .filter(|line| *line != "#EXT-X-ENDLIST")
        .map(|line| format!("{line}\n"))
        .collect();
    body.contains("#EXTINF").then_some((first, body))
}

/// `own` (this node's playlist) with `body` (the previous node's segments)
/// before its own, starting at sequence number `first`.
#[cfg(feature = "store")]
fn join_playlists(own: &str, first: u64, body: &str) -> String {
    let is_header = |line: &str| HEADER_TAGS.iter().any(|tag| line.starts_with(tag));
    let mut out = String::with_capacity(own.len() + body.len());
    let mut lines = own.lines().peekable();
    while let Some(line) = lines.next_if(|l| is_header(l) || l.is_empty()) {
        match line.starts_with("#EXT-X-MEDIA-SEQUENCE") {
            true => out.push_str(&format!("#EXT-X-MEDIA-SEQUENCE:{first}\n")),
            false => out.push_str(&format!("{line}\n")),
        }
    }
    if !out.contains("#EXT-X-MEDIA-SEQUENCE") {
        out.push_str(&format!("#EXT-X-MEDIA-SEQUENCE:{first}\n"));
    }
    out.push_str(body);
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(all(test, feature = "store"))]
mod tests {
    use super::*;

    #[test]
    fn the_previous_nodes_segments_stay_listed_first() {
        let previous = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MAP:URI=\"init0.mp4\"\n\
            #EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:00.000Z\n#EXTINF:2.000,\nseg0.m4s\n\
            #EXTINF:2.000,\nseg1.m4s\n#EXT-X-ENDLIST\n";
        let (first, body) = split_playlist(previous).expect("segments");
        assert_eq!(first, 0);
        assert!(body.starts_with("#EXT-X-MAP:URI=\"init0.mp4\"\n"), "{body}");
        assert!(
            !body.contains("ENDLIST") && !body.contains("EXTM3U"),
            "{body}"
        );
        let own = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n\
            #EXTINF:2.000,\nseg7.m4s\n";
        let joined = join_playlists(own, first, &body);
        let uris: Vec<&str> = joined.lines().filter(|l| l.starts_with("seg")).collect();
        assert_eq!(uris, ["seg0.m4s", "seg1.m4s", "seg7.m4s"]);
        assert!(joined.contains("#EXT-X-MEDIA-SEQUENCE:0\n"), "{joined}");
        assert_eq!(joined.matches("#EXTM3U").count(), 1);
        assert!(joined.find("seg1.m4s") < joined.find("#EXT-X-DISCONTINUITY"));
        assert_eq!(split_playlist("#EXTM3U\n#EXT-X-ENDLIST\n"), None);
    }
}

#[cfg(not(feature = "store"))]
impl Bucket {
    /// No store in this build.
    pub fn new(_handle: &StoreHandle, _key: &str, _target_duration: f64) -> Option<Bucket> {
        None
    }

    /// Nothing to do.
    pub fn init(&self, _uri: &str, _data: &Bytes) {}

    /// Nothing to do.
    pub fn segment(&mut self, _segment: Segment, _data: &[Bytes]) {}

    /// Nothing to do.
    pub fn end(&mut self) {}

    /// Nothing to do.
    pub fn resume(&mut self) {}

    /// Nothing to do.
    pub fn continue_previous(&self) {}

    /// Nothing to do.
    pub fn recording(&self, _path: &Path) {}
}
