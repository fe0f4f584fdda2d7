//! `onStatus` and `_result`/`_error` bodies, with the status codes peers check for.

use amf0::{Object, Value};

use crate::message::Command;

/// Status codes this crate sends or recognises (`info.code` of `onStatus` and `_result`).
pub mod code {
    /// `connect` accepted.
    pub const CONNECT_SUCCESS: &str = "NetConnection.Connect.Success";
    /// Enhanced RTMP v2: the server asks the client to reconnect (`tcUrl`, when
    /// present, says where).
    pub const RECONNECT_REQUEST: &str = "NetConnection.Connect.ReconnectRequest";
    /// `connect` refused by the application.
    pub const CONNECT_REJECTED: &str = "NetConnection.Connect.Rejected";
    /// `publish` accepted.
    pub const PUBLISH_START: &str = "NetStream.Publish.Start";
    /// `publish` refused: the name is in use or not allowed.
    pub const PUBLISH_BAD_NAME: &str = "NetStream.Publish.BadName";
    /// The publisher stopped.
    pub const UNPUBLISH_SUCCESS: &str = "NetStream.Unpublish.Success";
    /// `play` accepted: playlist reset.
    pub const PLAY_RESET: &str = "NetStream.Play.Reset";
    /// `play` accepted: playback starts.
    pub const PLAY_START: &str = "NetStream.Play.Start";
    /// `play` refused: no such stream.
    pub const PLAY_STREAM_NOT_FOUND: &str = "NetStream.Play.StreamNotFound";
    /// A player's stream got a publisher.
    pub const PLAY_PUBLISH_NOTIFY: &str = "NetStream.Play.PublishNotify";
    /// A player's stream lost its publisher.
    pub const PLAY_UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
    /// `pause` applied.
    pub const PAUSE_NOTIFY: &str = "NetStream.Pause.Notify";
    /// `pause(false)` applied.
    pub const UNPAUSE_NOTIFY: &str = "NetStream.Unpause.Notify";
}

/// The level of a status: `"status"` for success, `"error"` for failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// A success or notice.
    Status,
    /// A failure.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Status => "status",
            Level::Error => "error",
        }
    }
}

/// The `info` object of a status: level, code and description.
pub(super) fn info(level: Level, code: &str, description: &str) -> Object {
    let mut info = Object::with_capacity(3);
    info.push("level", level.as_str());
    info.push("code", code);
    info.push("description", description);
    info
}

/// `onStatus(0, null, {level, code, description})` as FFmpeg, OBS and Flash expect it.
pub(super) fn on_status(level: Level, code: &str, description: &str) -> Command {
    Command::new(
        "onStatus",
        0.0,
        vec![Value::Object(info(level, code, description))],
    )
}

/// A status as a peer sent it, read out of an `onStatus`, `_result` or `_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// `"status"`, `"error"` or `"warning"` as sent.
    pub level: String,
    /// The code, e.g. `NetStream.Publish.Start`.
    pub code: String,
    /// The human-readable description (may be empty).
    pub description: String,
}

impl Status {
    /// Reads the first argument object of a command as a status (`None` if it has no `code`).
    pub fn from_command(command: &Command) -> Option<Status> {
        let info = command.arguments.iter().find_map(Value::as_object)?;
        let text = |key: &str| {
            info.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let code = info.get("code").and_then(Value::as_str)?.to_owned();
        Some(Status {
            level: text("level"),
            code,
            description: text("description"),
        })
    }

    /// Whether the level is `"error"`.
    pub fn is_error(&self) -> bool {
        self.level == "error"
    }
}
