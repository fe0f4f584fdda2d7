//! Live input: play a stream with `rtmp_core::ClientSession`, or accept one
//! publisher with `rtmp_core::ServerSession`, driven by a single-threaded tokio
//! runtime. Every media message is stamped with the time its bytes were read.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use flv::{Tag, TagType};
use rtmp_core::session::status::code;
use rtmp_core::{
    ChunkOutput, ClientConfig, ClientEvent, ClientSession, EnhancedCapabilities, MediaKind,
    MediaMessage, RtmpUrl, ServerConfig, ServerEvent, ServerSession,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep_until, timeout};

use super::report::Report;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum Mode {
    Play(String),
    Listen(SocketAddr),
}

/// Runs the live input to its end (the stream ends, `duration` passes, or Ctrl-C),
/// then writes the report. Returns whether a `--fail-on` event occurred.
pub(crate) fn run(
    mode: Mode,
    mut report: Report,
    duration: Option<Duration>,
) -> Result<bool, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let start = Instant::now();
    let (name, result) = runtime.block_on(async {
        let clock = Clock {
            start,
            deadline: duration.map(|d| tokio::time::Instant::from_std(start + d)),
            tick: Duration::from_millis(250),
        };
        match &mode {
            Mode::Play(url) => (url.clone(), play(url, &mut report, &clock).await),
            Mode::Listen(addr) => (
                format!("publisher on {addr}"),
                listen(*addr, &mut report, &clock).await,
            ),
        }
    });
    let end = start.elapsed();
    let failed = report
        .finish(Some(end), &name)
        .map_err(|e| format!("writing output: {e}"))?;
    result.map(|()| failed)
}

/// The arrival clock and when to stop.
struct Clock {
    start: Instant,
    deadline: Option<tokio::time::Instant>,
    tick: Duration,
}

impl Clock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn deadline(&self) {
        match self.deadline {
            Some(deadline) => sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    }
}

/// An RTMP audio or video message as the FLV tag it carries (data messages are
/// not frames).
fn tag(message: MediaMessage) -> Option<Tag> {
    let tag_type = match message.kind {
        MediaKind::Audio => TagType::Audio,
        MediaKind::Video => TagType::Video,
        _ => return None,
    };
    Some(Tag {
        tag_type,
        timestamp: i64::try_from(message.timestamp).unwrap_or(i64::MAX),
        raw_timestamp: message.timestamp as u32,
        stream_id: message.stream_id,
        encrypted: false,
        offset: 0,
        body: message.payload,
    })
}

async fn write_out<W: AsyncWrite + Unpin>(
    writer: &mut W,
    output: &mut ChunkOutput,
) -> Result<(), String> {
    rtmp_core::io::write_output(writer, output)
        .await
        .map(|_| ())
        .map_err(|e| format!("write: {e}"))
}

async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut R,
    input: &mut BytesMut,
) -> Result<usize, String> {
    rtmp_core::io::read_into(reader, input)
        .await
        .map_err(|e| format!("read: {e}"))
}

fn output_error(error: std::io::Error) -> String {
    format!("writing output: {error}")
}

async fn play(url: &str, report: &mut Report, clock: &Clock) -> Result<(), String> {
    let url = RtmpUrl::parse(url).map_err(|e| e.to_string())?;
    if url.tls {
        // The probe stays free of a TLS stack; a plain socket would only time out.
        return Err(format!(
            "{url}: expected rtmp://, rtmps:// is not supported by the probe"
        ));
    }
    let socket = timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| format!("connecting to {}:{} timed out", url.host, url.port))?
    .map_err(|e| format!("connecting to {}:{}: {e}", url.host, url.port))?;
    let _ = socket.set_nodelay(true);
    let (mut reader, mut writer) = socket.into_split();
    let mut config = ClientConfig::new(&url.app, url.tc_url());
    config.enhanced = Some(EnhancedCapabilities::forwarding());
    let mut client = ClientSession::new(config, Instant::now());
    client.play(&url.key);
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut ticker = tokio::time::interval(clock.tick);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        write_out(&mut writer, client.output()).await?;
        tokio::select! {
            read = read_some(&mut reader, &mut input) => {
                if read? == 0 {
                    return Ok(()); // the server closed the connection: the stream ended
                }
                let now = clock.now();
                client.handle_input(&mut input, Instant::now()).map_err(|e| e.to_string())?;
                while let Some(event) = client.poll_event() {
                    match event {
                        ClientEvent::Media(message) => {
                            if let Some(tag) = tag(message) {
                                report.push_tag(&tag, Some(now)).map_err(output_error)?;
                            }
                        }
                        ClientEvent::ConnectFailed(status) => {
                            return Err(format!("connect refused: {} {}", status.code, status.description));
                        }
                        ClientEvent::Status { status, .. } => {
                            if status.code == code::PLAY_STREAM_NOT_FOUND || status.is_error() {
                                return Err(format!("{}: {}", status.code, status.description));
                            }
                            if status.code == code::PLAY_UNPUBLISH_NOTIFY || status.code == "NetStream.Play.Stop" {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ = ticker.tick() => report.tick(clock.now()).map_err(output_error)?,
            () = clock.deadline() => return Ok(()),
            _ = &mut ctrl_c => return Ok(()),
        }
    }
}

async fn listen(addr: SocketAddr, report: &mut Report, clock: &Clock) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("listening on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Said always (not only on a terminal): scripts wait for this line before publishing.
    eprintln!("media-probe: listening on {local}");
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let socket = tokio::select! {
        accepted = listener.accept() => accepted.map_err(|e| format!("accept: {e}"))?.0,
        () = clock.deadline() => return Ok(()),
        _ = &mut ctrl_c => return Ok(()),
    };
    drop(listener); // one publisher only
    let _ = socket.set_nodelay(true);
    let (mut reader, mut writer) = socket.into_split();
    let mut session = ServerSession::new(ServerConfig::default(), Instant::now());
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut ticker = tokio::time::interval(clock.tick);
    let mut published = false;
    loop {
        write_out(&mut writer, session.output()).await?;
        let session_deadline = session.poll_timeout();
        tokio::select! {
            read = read_some(&mut reader, &mut input) => {
                if read? == 0 {
                    return Ok(()); // the publisher left
                }
                let now = clock.now();
                session.handle_input(&mut input, Instant::now()).map_err(|e| e.to_string())?;
                while let Some(event) = session.poll_event() {
                    match event {
                        ServerEvent::Connect(_) => session.accept_connect().map_err(|e| e.to_string())?,
                        ServerEvent::Publish(_) if !published => {
                            published = true;
                            session.accept_publish().map_err(|e| e.to_string())?;
                        }
                        ServerEvent::Publish(_) => session
                            .reject_publish(code::PUBLISH_BAD_NAME, "media-probe takes one publisher")
                            .map_err(|e| e.to_string())?,
                        ServerEvent::Play(_) => session
                            .reject_play(code::PLAY_STREAM_NOT_FOUND, "media-probe only accepts a publisher")
                            .map_err(|e| e.to_string())?,
                        ServerEvent::Media(message) => {
                            if let Some(tag) = tag(message) {
                                report.push_tag(&tag, Some(now)).map_err(output_error)?;
                            }
                        }
                        ServerEvent::Unpublish { .. } => {
                            let _ = write_out(&mut writer, session.output()).await;
                            return Ok(());
                        }
                        _ => {}
                    }
                }
            }
            () = rtmp_core::io::sleep_until(session_deadline) => {
                session.handle_timeout(Instant::now()).map_err(|e| e.to_string())?;
            }
            _ = ticker.tick() => report.tick(clock.now()).map_err(output_error)?,
            () = clock.deadline() => return Ok(()),
            _ = &mut ctrl_c => return Ok(()),
        }
        if session.is_closed() {
            return Ok(());
        }
    }
}
