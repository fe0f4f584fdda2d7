//! AMF0 decode throughput of FFmpeg 9's `connect` command and `@setDataFrame`
//! `onMetaData` payloads: our `amf0` crate against `rml_amf0` (what `rml_rtmp`
//! uses), `scuffle-amf0` (what `scuffle-rtmp` uses) and `amf`, on the same bytes in
//! the same run. Before measuring it checks that all four read the same values.

mod common;

use std::hint::black_box;
use std::io::Cursor;

use bytes::Bytes;
use criterion::Throughput;

// ---- decoders ------------------------------------------------------------------------------

fn ours(b: &Bytes) -> Vec<amf0::Value> {
    amf0::decode_all(b).expect("amf0")
}

fn rml(b: &[u8]) -> Vec<rml_amf0::Amf0Value> {
    rml_amf0::deserialize(&mut Cursor::new(b)).expect("rml_amf0")
}

fn scuffle(b: &[u8]) -> Result<Vec<scuffle_amf0::Amf0Value<'_>>, scuffle_amf0::Amf0Error> {
    scuffle_amf0::Amf0Decoder::from_slice(b).decode_all()
}

fn amf(b: &[u8]) -> Vec<amf::amf0::Value> {
    let mut d = amf::amf0::Decoder::new(Cursor::new(b));
    let mut v = Vec::new();
    while (d.inner().position() as usize) < b.len() {
        v.push(d.decode().expect("amf"));
    }
    v
}

// ---- a common view for the check: sorted "path=value" leaves -------------------------------

fn leaf_f64(path: &str, n: f64) -> String {
    format!("{path}={n}")
}

fn leaves_ours(v: &amf0::Value, path: String, out: &mut Vec<String>) {
    use amf0::Value as V;
    match v {
        V::Number(n) => out.push(leaf_f64(&path, *n)),
        V::Boolean(b) => out.push(format!("{path}={b}")),
        V::String(s) | V::LongString(s) => out.push(format!("{path}={}", s.to_string_lossy())),
        V::Null | V::Undefined => out.push(format!("{path}=null")),
        V::Object(o) | V::EcmaArray { properties: o, .. } => {
            for (k, v) in o.iter() {
                leaves_ours(v, format!("{path}.{}", k.to_string_lossy()), out);
            }
        }
        other => out.push(format!("{path}={other:?}")),
    }
}

fn leaves_rml(v: &rml_amf0::Amf0Value, path: String, out: &mut Vec<String>) {
    use rml_amf0::Amf0Value as V;
    match v {
        V::Number(n) => out.push(leaf_f64(&path, *n)),
        V::Boolean(b) => out.push(format!("{path}={b}")),
        V::Utf8String(s) => out.push(format!("{path}={s}")),
        V::Null | V::Undefined => out.push(format!("{path}=null")),
        V::Object(o) => {
            for (k, v) in o {
                leaves_rml(v, format!("{path}.{k}"), out);
            }
        }
        V::StrictArray(a) => out.push(format!("{path}=[{}]", a.len())),
    }
}

fn leaves_scuffle(v: &scuffle_amf0::Amf0Value<'_>, path: String, out: &mut Vec<String>) {
    use scuffle_amf0::Amf0Value as V;
    match v {
        V::Number(n) => out.push(leaf_f64(&path, *n)),
        V::Boolean(b) => out.push(format!("{path}={b}")),
        V::String(s) => out.push(format!("{path}={}", s.as_str())),
        V::Null => out.push(format!("{path}=null")),
        V::Object(o) => {
            for (k, v) in o {
                leaves_scuffle(v, format!("{path}.{}", k.as_str()), out);
            }
        }
        V::Array(a) => out.push(format!("{path}=[{}]", a.len())),
    }
}

fn leaves_amf(v: &amf::amf0::Value, path: String, out: &mut Vec<String>) {
    use amf::amf0::Value as V;
    match v {
        V::Number(n) => out.push(leaf_f64(&path, *n)),
        V::Boolean(b) => out.push(format!("{path}={b}")),
        V::String(s) => out.push(format!("{path}={s}")),
        V::Null | V::Undefined => out.push(format!("{path}=null")),
        V::Object { entries, .. } | V::EcmaArray { entries } => {
            for e in entries {
                leaves_amf(&e.value, format!("{path}.{}", e.key), out);
            }
        }
        other => out.push(format!("{path}={other:?}")),
    }
}

fn view<T>(values: &[T], f: fn(&T, String, &mut Vec<String>)) -> Vec<String> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        f(v, format!("#{i}"), &mut out);
    }
    out.sort();
    out
}

/// Number of values, nested ones included (what "values/s" counts).
fn count(v: &amf0::Value) -> u64 {
    use amf0::Value as V;
    match v {
        V::Object(o)
        | V::EcmaArray { properties: o, .. }
        | V::TypedObject { properties: o, .. } => 1 + o.iter().map(|(_, v)| count(v)).sum::<u64>(),
        V::StrictArray(a) => 1 + a.iter().map(count).sum::<u64>(),
        _ => 1,
    }
}

const PEERS: [&str; 3] = ["rml_amf0", "scuffle_amf0", "amf"];

fn main() {
    let inputs: Vec<(&str, Bytes)> = match (
        common::load("connect.amf0"),
        common::load("onmetadata.amf0"),
    ) {
        (Some(c), Some(m)) => vec![("connect", Bytes::from(c)), ("onmetadata", Bytes::from(m))],
        _ => return,
    };

    // 1. Check: the same leaves (order-insensitive: two peers keep objects in a HashMap).
    let mut counts = Vec::new();
    let mut scuffle_ok = Vec::new();
    for (name, b) in &inputs {
        let o = ours(b);
        let n: u64 = o.iter().map(count).sum();
        counts.push(n);
        let ref_view = view(&o, leaves_ours);
        println!(
            "check {name}: amf0: {} top-level values, {n} values in all, {} leaves",
            o.len(),
            ref_view.len()
        );
        let sc = scuffle(b);
        scuffle_ok.push(sc.is_ok());
        let views = [
            view(&rml(b), leaves_rml),
            match &sc {
                Ok(v) => view(v, leaves_scuffle),
                Err(e) => {
                    println!(
                        "check {name}: scuffle_amf0: FAILS: {e:?} (not measured on this input)"
                    );
                    Vec::new()
                }
            },
            view(&amf(b), leaves_amf),
        ];
        for (peer, v) in PEERS.iter().zip(&views) {
            if *peer == "scuffle_amf0" && sc.is_err() {
                continue;
            }
            let diff = ref_view.iter().filter(|l| !v.contains(l)).count()
                + v.iter().filter(|l| !ref_view.contains(l)).count();
            println!(
                "check {name}: {peer}: {}",
                if diff == 0 {
                    "same values".to_string()
                } else {
                    format!("{diff} leaves differ: {v:?}")
                }
            );
        }
    }

    // 2. Measure.
    let mut c = common::criterion();
    for (((name, b), n), sc_ok) in inputs.iter().zip(&counts).zip(&scuffle_ok) {
        for (unit, tp) in [
            ("bytes", Throughput::Bytes(b.len() as u64)),
            ("values", Throughput::Elements(*n)),
        ] {
            let mut g = c.benchmark_group(format!("amf0_{name}_{unit}"));
            g.throughput(tp);
            g.bench_function("amf0", |bn| bn.iter(|| black_box(ours(black_box(b)))));
            g.bench_function("rml_amf0", |bn| bn.iter(|| black_box(rml(black_box(b)))));
            if *sc_ok {
                g.bench_function("scuffle_amf0", |bn| {
                    bn.iter(|| black_box(scuffle(black_box(b))))
                });
            }
            g.bench_function("amf", |bn| bn.iter(|| black_box(amf(black_box(b)))));
            g.finish();
        }
    }
    c.final_summary();

    // 3. Summary.
    println!("\n== amf0 summary (criterion mean; this run) ==");
    for (((name, b), n), sc_ok) in inputs.iter().zip(&counts).zip(&scuffle_ok) {
        let g = format!("amf0_{name}_bytes");
        for bench in ["amf0", "rml_amf0", "scuffle_amf0", "amf"] {
            if bench == "scuffle_amf0" && !sc_ok {
                println!("{name:<10} {bench:<13} fails to decode this input");
                continue;
            }
            match common::mean_ns(&g, bench) {
                Some(ns) => println!(
                    "{name:<10} {bench:<13} {:>9.0} ns {:>12} {:>18}",
                    ns,
                    common::rate(b.len() as f64 / ns * 1e9, "B"),
                    common::rate(*n as f64 / ns * 1e9, " values")
                ),
                None => println!("{name:<10} {bench:<13} n/a"),
            }
        }
        for peer in PEERS {
            if peer == "scuffle_amf0" && !sc_ok {
                continue;
            }
            common::print_ratio(&g, "amf0", peer, name, None);
        }
    }
}
