//! The HTTP API, on when [`Config::api_token`](crate::Config::api_token) is
//! set. Every request carries `Authorization: Bearer TOKEN`; answers are JSON.
//!
//! | request | does |
//! | --- | --- |
//! | `POST /APP/KEY/ad-break?duration=S` | starts an ad break of `S` seconds (0.1 to 3600) at the stream's next key frame ([`Server::insert_ad_break`]): `{"event_id": N}` |
//! | `POST /APP/KEY/ad-break?end` | ends the running break at the next key frame ([`Server::end_ad_break`]) |
//!
//! 401 without the right token, 404 for a stream that is not live, 400 for a
//! duration out of range, 409 when the stream cannot take it now (a break
//! already running, none to end).
//!
//! ```text
//! curl -X POST -H "Authorization: Bearer $TOKEN" 'http://HOST:8080/live/cam1/ad-break?duration=30'
//! {"event_id":1}
//! ```

use hyper::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};

use super::{no_cache, text, with_type, Body};
use crate::{valid_name, Server};

/// Answers a `POST` (the API is on).
pub(super) fn post(server: &Server, request: &hyper::http::request::Parts) -> Response<Body> {
    let Some(token) = server.config.api_token.as_ref() else {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET, HEAD or OPTIONS\n");
    };
    let given = (request.headers.get(AUTHORIZATION))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !given.is_some_and(|given| token.matches(given.trim())) {
        let mut response = text(
            StatusCode::UNAUTHORIZED,
            "expected Authorization: Bearer TOKEN\n",
        );
        let challenge = HeaderValue::from_static("Bearer realm=\"live-ingest\"");
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        return response;
    }
    let Some(key) = stream_key(request.uri.path()) else {
        return text(StatusCode::NOT_FOUND, "expected POST /APP/KEY/ad-break\n");
    };
    match Order::parse(request.uri.query().unwrap_or("")) {
        Ok(order) => carry_out(server, key, order),
        Err(expected) => text(StatusCode::BAD_REQUEST, &format!("expected {expected}\n")),
    }
}

/// `APP/KEY` of `/APP/KEY/ad-break`.
fn stream_key(path: &str) -> Option<&str> {
    let key = path.strip_prefix('/')?.strip_suffix("/ad-break")?;
    let (app, name) = key.split_once('/')?;
    (valid_name(app) && valid_name(name)).then_some(key)
}

/// What a request asks for.
#[derive(Debug, PartialEq)]
enum Order {
    Start { seconds: f64 },
    End,
}

impl Order {
    fn parse(query: &str) -> Result<Order, &'static str> {
        const EXPECTED: &str = "?duration=SECONDS (0.1 to 3600) or ?end";
        let mut order = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let this = match name {
                "duration" => match value.parse::<f64>() {
                    Ok(seconds) if (0.1..=3600.0).contains(&seconds) => Order::Start { seconds },
                    _ => return Err(EXPECTED),
                },
                "end" => Order::End,
                _ => return Err(EXPECTED),
            };
            if order.replace(this).is_some() {
                return Err(EXPECTED);
            }
        }
        order.ok_or(EXPECTED)
    }
}

fn carry_out(server: &Server, key: &str, order: Order) -> Response<Body> {
    let done = match order {
        Order::Start { seconds } => server.insert_ad_break(key, seconds),
        Order::End => server.end_ad_break(key),
    };
    match done {
        None => text(StatusCode::NOT_FOUND, &format!("{key}: no live stream\n")),
        Some(Err(error)) => text(StatusCode::CONFLICT, &format!("{key}: {error}\n")),
        Some(Ok(event_id)) => {
            let json = serde_json::json!({ "event_id": event_id }).to_string();
            no_cache(with_type(Body::full(json), "application/json"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parse_and_refuse_what_they_should() {
        assert_eq!(
            Order::parse("duration=30"),
            Ok(Order::Start { seconds: 30.0 })
        );
        assert_eq!(Order::parse("end"), Ok(Order::End));
        for bad in [
            "",
            "duration=0",
            "duration=3601",
            "duration=x",
            "end&duration=3",
            "dur=3",
        ] {
            assert!(Order::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_stream_paths_name_a_key() {
        assert_eq!(stream_key("/live/cam1/ad-break"), Some("live/cam1"));
        for bad in [
            "/live/ad-break",
            "/live/cam1/x/ad-break",
            "/live/../ad-break",
            "/live/cam1",
        ] {
            assert_eq!(stream_key(bad), None, "{bad}");
        }
    }
}
