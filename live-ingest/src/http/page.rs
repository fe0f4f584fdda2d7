//! The page at `/`: the streams and a player.
//!
//! The player is hls.js: the npm package's file on this machine when there is
//! one (served by this server at `/hls.min.js`), otherwise loaded by the
//! browser from a public CDN, which the page names.

use std::fmt::Write as _;

use crate::config::HLSJS_CDN;
use crate::hls::stream::Snapshot;

/// The HTML page for these streams; `local_hlsjs` says whether `/hls.min.js`
/// is served from a local file (else the page loads [`HLSJS_CDN`]).
pub fn render(streams: &[Snapshot], local_hlsjs: bool) -> String {
    let mut html = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>live-ingest</title>\n\
         <style>body{font-family:sans-serif;margin:1.5em}td,th{padding:.2em .8em;text-align:left}\
         video{background:#000;max-width:100%}</style></head><body>\n<h1>Streams</h1>\n",
    );
    if streams.is_empty() {
        html.push_str(
            "<p>No stream yet. Publish one, for example:<br><code>ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/test</code></p>\n",
        );
    } else {
        html.push_str(
            "<table><tr><th>stream</th><th>state</th><th>codecs</th><th>uptime</th><th>viewers</th><th>HTTP-FLV</th><th></th></tr>\n",
        );
        for s in streams {
            let (app, name) = s.key.split_once('/').unwrap_or(("", &s.key));
            let url = format!("/{}/{}/index.m3u8", escape(app), escape(name));
            let flv = format!("/{}/{}.flv", escape(app), escape(name));
            let _ = writeln!(
                html,
                "<tr><td><a href=\"{url}\">{key}</a></td><td>{state}</td><td>{codecs}</td><td>{uptime:.0} s</td><td>{viewers}</td>\
                 <td><a href=\"{flv}\">{flv}</a></td><td><button onclick=\"play('{url}')\">play</button></td></tr>",
                key = escape(&s.key),
                state = if s.live { "live" } else { "ended" },
                codecs = escape(&s.tracks.codecs()),
                uptime = s.uptime.as_secs_f64(),
                viewers = s.viewers,
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str(
        "<p><video id=\"video\" controls muted autoplay playsinline width=\"640\"></video></p>\n",
    );
    let source = if local_hlsjs {
        "/hls.min.js"
    } else {
        HLSJS_CDN
    };
    if !local_hlsjs {
        let _ = writeln!(
            html,
            "<p>hls.js is not installed on the server, so this page loads it from <code>{}</code>. \
             Install the npm package <code>hls.js</code> or start the server with <code>--hlsjs PATH/hls.min.js</code> \
             to serve it locally.</p>",
            escape(HLSJS_CDN)
        );
    }
    let _ = writeln!(html, "<script src=\"{}\"></script>", escape(source));
    html.push_str(
        "<script>\n\
         let hls = null;\n\
         function play(url) {\n\
           const video = document.getElementById('video');\n\
           if (hls) { hls.destroy(); hls = null; }\n\
           if (window.Hls && Hls.isSupported()) {\n\
             hls = new Hls({lowLatencyMode: true});\n\
             hls.loadSource(url);\n\
             hls.attachMedia(video);\n\
           } else {\n\
             video.src = url;\n\
           }\n\
           video.play().catch(() => {});\n\
         }\n</script>\n",
    );
    html.push_str("<p><a href=\"/stats\">/stats</a> (JSON), <a href=\"/metrics\">/metrics</a> (Prometheus)</p>\n</body></html>\n");
    html
}

/// HTML escaping of text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_hlsjs_locally_or_from_the_named_cdn() {
        let page = render(&[], true);
        assert!(page.contains("<script src=\"/hls.min.js\"></script>"));
        assert!(!page.contains("http"), "no outside address: {page}");
        let page = render(&[], false);
        assert!(page.contains(&format!("<script src=\"{HLSJS_CDN}\"></script>")));
        assert!(page.contains("hls.js is not installed on the server"));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
