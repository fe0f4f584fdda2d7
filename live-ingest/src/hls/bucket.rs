//! A stream's objects in object storage ([`crate::store`]): its init
//! segments and finished segments, a playlist of every segment since the
//! stream began (`EXT-X-PLAYLIST-TYPE:EVENT`, no parts: what plays from the
//! bucket's HTTP endpoint), and its recordings. Without the `store` feature
//! (or `Config::store`) nothing here does anything.

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
        })
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
        let text = Bytes::from(self.playlist.render());
        self.put("index.m3u8", &[text]);
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
    pub fn recording(&self, _path: &Path) {}
}
