//! An RPC sweep: every method of a gRPC service, called with the empty
//! request and with many random ones, must never answer `INTERNAL` or
//! `UNKNOWN`, and the server must keep answering health checks.
//!
//! An answer the client cannot read (a status message too long for the
//! HTTP/2 header limit, a reset stream) fails the sweep too.
//!
//! The sweep knows the service only by its protobuf descriptor set (the one
//! its reflection serves): requests are [`DynamicMessage`]s filled with
//! random values by field kind (hostile strings, extreme numbers, unknown
//! enum values, timestamps at year 1 and 9999, long lists) and sent as raw
//! bytes, so no generated types are needed. Server-streaming methods are
//! read up to their first message (or a short timeout), then dropped.
//!
//! Each request has a hostility, from mostly plausible values (given per
//! service, and per field name with [`Sweep::field`], so that requests pass
//! validation and reach SQL and peers) to nothing but odd ones.
//!
//! Random values come from a seeded ChaCha RNG, one stream per method, so a
//! failure is reproduced by the seed alone (`SWEEP_SEED`), whatever other
//! methods do; `SWEEP_CALLS` sets the random calls per method.
//!
//! ```ignore
//! let report = Sweep::from_env(METRICS_DESCRIPTOR_SET, METRICS_SERVICE_NAME, 20)
//!     .token("secret")
//!     .plausible(&["u1", "2025-01"])
//!     .field("email", &["u1@example.com"])
//!     .run(channel)
//!     .await;
//! report.assert_clean();
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use prost::Message as _;
use prost::bytes::{Buf, BufMut};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    MethodDescriptor, ReflectMessage as _, Value,
};
use rand::seq::IndexedRandom as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Year 1 and year 9999 (the range of a `google.protobuf.Timestamp`), and
/// beyond it.
const TIMESTAMP_SECONDS: &[i64] = &[
    -62_135_596_800,
    253_402_300_799,
    253_402_300_800,
    -62_135_596_801,
    0,
    -1,
    1_735_689_600, // 2025-01-01
    i64::MIN,
    i64::MAX,
];
const TIMESTAMP_NANOS: &[i32] = &[0, -1, 999_999_999, 1_000_000_000, i32::MIN];
/// Strings every text field is sent; plausible ones are added per service.
const STRINGS: &[&str] = &[
    "",
    " ",
    "\0",
    "u1\0",
    "\u{1}\u{7}\t\n\r\u{1b}\u{7f}",
    "ȸ˴",
    "Ünïcødé",
    "用户",
    "😀",
    "\u{202e}rtl",
    "-1",
    "null",
    "{}",
    "{\"a\":",
    "2025-01",
    "2025-13-45",
    "UTC",
    "Mars/Olympus",
    "../../etc/passwd",
    "'; DROP TABLE x; --",
];
/// Repeated fields get 0, 1 or a few elements, and sometimes this many.
const LONG_LIST: usize = 2_000;
/// The length of the longest string sent.
const LONG_STRING: usize = 70_000;
/// How deep nested messages are filled.
const MAX_DEPTH: usize = 4;

/// A sweep of one service; see the module docs.
pub struct Sweep {
    pool: DescriptorPool,
    service: String,
    calls: usize,
    seed: u64,
    token: Option<String>,
    plausible: Vec<String>,
    by_field: BTreeMap<String, Vec<String>>,
    call_timeout: Duration,
}

/// A request that broke a rule.
#[derive(Debug)]
pub struct Failure {
    pub method: String,
    /// Which call of the method (0: the empty request).
    pub call: usize,
    pub what: String,
    pub request: String,
}

/// What a sweep saw.
#[derive(Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub calls: usize,
    /// Per method, how often each code was answered, and the first
    /// message that came with it.
    pub codes: BTreeMap<String, BTreeMap<String, (usize, String)>>,
    /// Per method, the time its calls took.
    pub times: BTreeMap<String, Duration>,
    pub failures: Vec<Failure>,
    pub elapsed: Duration,
}

impl Report {
    /// Panics, naming every failure, the seed, and how to reproduce.
    pub fn assert_clean(&self) {
        if self.failures.is_empty() {
            return;
        }
        let mut text = format!(
            "{} of {} calls broke the sweep's rules (reproduce: SWEEP_SEED={}):\n",
            self.failures.len(),
            self.calls,
            self.seed
        );
        for f in &self.failures {
            let _ = writeln!(
                text,
                "  {} call {}: {}\n    request: {}",
                f.method, f.call, f.what, f.request
            );
        }
        panic!("{text}");
    }
}

impl Sweep {
    /// A sweep of `service` (its full name) described by `descriptor_set`,
    /// `calls` random calls per method and a random seed, unless
    /// `SWEEP_CALLS` / `SWEEP_SEED` say otherwise.
    pub fn from_env(descriptor_set: &[u8], service: &str, calls: usize) -> Self {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let pool = DescriptorPool::decode(descriptor_set).expect("a valid descriptor set");
        Self {
            pool,
            service: service.to_owned(),
            calls: env("SWEEP_CALLS").map_or(calls, |n| n as usize),
            seed: env("SWEEP_SEED").unwrap_or_else(rand::random),
            token: None,
            plausible: Vec::new(),
            by_field: BTreeMap::new(),
            call_timeout: Duration::from_secs(10),
        }
    }

    /// Sends `authorization: Bearer <token>` with every call.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Strings that mean something to the service (stored ids, months), so
    /// that some requests pass validation and reach deeper code.
    pub fn plausible(mut self, values: &[&str]) -> Self {
        self.plausible = values.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Plausible strings for every field called `field` (`email`,
    /// `currency`), used instead of the general ones.
    pub fn field(mut self, field: &str, values: &[&str]) -> Self {
        self.by_field.insert(
            field.to_owned(),
            values.iter().map(|s| (*s).to_owned()).collect(),
        );
        self
    }

    /// Calls every method of the service through `channel`: the empty
    /// request, then the random ones; checks health after each method.
    pub async fn run(&self, channel: Channel) -> Report {
        let started = Instant::now();
        let service = self
            .pool
            .get_service_by_name(&self.service)
            .unwrap_or_else(|| panic!("{} is not in the descriptor set", self.service));
        println!(
            "sweep of {}: seed {} (SWEEP_SEED), {} random calls per method (SWEEP_CALLS)",
            self.service, self.seed, self.calls
        );
        let mut report = Report {
            seed: self.seed,
            ..Report::default()
        };
        let mut grpc =
            tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(64 * 1024 * 1024);
        for method in service.methods() {
            let method_started = Instant::now();
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ fnv(method.name()));
            for call in 0..=self.calls {
                let request = if call == 0 {
                    DynamicMessage::new(method.input())
                } else {
                    Fill::new(&mut rng, &self.plausible, &self.by_field).message(
                        &method.input(),
                        0,
                        false,
                    )
                };
                report.calls += 1;
                let outcome = self.call(&mut grpc, &method, &request).await;
                let (code, message) = match &outcome {
                    Ok(()) => ("OK".to_owned(), String::new()),
                    Err(Problem::Status(s)) => (format!("{:?}", s.code()), s.message().to_owned()),
                    Err(Problem::Timeout) => ("no answer".to_owned(), String::new()),
                };
                report
                    .codes
                    .entry(method.name().to_owned())
                    .or_default()
                    .entry(code)
                    .or_insert_with(|| (0, message.chars().take(100).collect()))
                    .0 += 1;
                let what = match outcome {
                    Err(Problem::Status(s))
                        if matches!(s.code(), Code::Internal | Code::Unknown) =>
                    {
                        format!("{:?}: {}", s.code(), s.message())
                    }
                    // The client could not read the answer (a status
                    // message too long for a header, a reset stream).
                    Err(Problem::Status(s)) if s.message().starts_with("h2 protocol error") => {
                        format!("unreadable answer: {:?}: {}", s.code(), s.message())
                    }
                    Err(Problem::Timeout) => format!("no answer within {:?}", self.call_timeout),
                    _ => continue,
                };
                report.failures.push(Failure {
                    method: method.name().to_owned(),
                    call,
                    what,
                    request: describe(&request),
                });
            }
            report
                .times
                .insert(method.name().to_owned(), method_started.elapsed());
            if let Err(why) = healthy(channel.clone()).await {
                report.failures.push(Failure {
                    method: method.name().to_owned(),
                    call: self.calls,
                    what: format!(
                        "the server stopped answering health checks after this method: {why}"
                    ),
                    request: String::new(),
                });
                break;
            }
        }
        report.elapsed = started.elapsed();
        println!(
            "sweep of {}: {} calls in {:.1?}, {} failures",
            self.service,
            report.calls,
            report.elapsed,
            report.failures.len(),
        );
        for (method, codes) in &report.codes {
            let took = report.times.get(method).copied().unwrap_or_default();
            println!("  {method} ({took:.1?}):");
            for (code, (n, example)) in codes {
                println!("    {n:>4} {code} {example:?}");
            }
        }
        report
    }

    /// One call; a streaming method's first message (or 0.25 s of silence)
    /// ends it.
    async fn call(
        &self,
        grpc: &mut tonic::client::Grpc<Channel>,
        method: &MethodDescriptor,
        request: &DynamicMessage,
    ) -> Result<(), Problem> {
        let path = format!("/{}/{}", self.service, method.name())
            .parse()
            .expect("a valid path");
        let mut req = tonic::Request::new(request.encode_to_vec());
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}").parse().expect("an ASCII token");
            req.metadata_mut().insert("authorization", value);
        }
        let call = async {
            grpc.ready()
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            if method.is_server_streaming() {
                let mut stream = grpc
                    .server_streaming(req, path, RawCodec)
                    .await?
                    .into_inner();
                match tokio::time::timeout(Duration::from_millis(250), stream.message()).await {
                    Ok(first) => first.map(drop),
                    Err(_) => Ok(()), // still streaming: fine, dropped here
                }
            } else {
                grpc.unary(req, path, RawCodec).await.map(drop)
            }
        };
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(result) => result.map_err(Problem::Status),
            Err(_) => Err(Problem::Timeout),
        }
    }
}

enum Problem {
    Status(tonic::Status),
    Timeout,
}

/// `grpc.health.v1.Health/Check` for the whole server answers SERVING
/// within 2 s.
async fn healthy(channel: Channel) -> Result<(), String> {
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(reply)) if reply.get_ref().status() == ServingStatus::Serving => Ok(()),
        Ok(Ok(reply)) => Err(format!("{:?}", reply.get_ref().status())),
        Ok(Err(status)) => Err(format!("{status:?}")),
        Err(_) => Err("no answer within 2 s".into()),
    }
}

/// Random field values for one request. Each request has a hostility: the
/// chance that a value is odd (hostile strings, extremes, unknown enum
/// values, long lists) rather than plausible, so that some requests are
/// mostly valid and reach the code behind validation.
struct Fill<'a> {
    rng: &'a mut ChaCha8Rng,
    plausible: &'a [String],
    by_field: &'a BTreeMap<String, Vec<String>>,
    /// The field being filled, for [`Sweep::field`] values.
    field: String,
    hostility: f64,
    /// One 2,000-element list per request at most.
    long_list_sent: bool,
}

impl<'a> Fill<'a> {
    fn new(
        rng: &'a mut ChaCha8Rng,
        plausible: &'a [String],
        by_field: &'a BTreeMap<String, Vec<String>>,
    ) -> Self {
        let hostility = *[0.02, 0.1, 0.3, 1.0].choose(rng).expect("non-empty");
        Self {
            rng,
            plausible,
            by_field,
            field: String::new(),
            hostility,
            long_list_sent: false,
        }
    }

    fn odd(&mut self) -> bool {
        self.rng.random_bool(self.hostility)
    }

    /// A message with some fields left empty; `small` (inside a long list)
    /// keeps values short.
    fn message(&mut self, desc: &MessageDescriptor, depth: usize, small: bool) -> DynamicMessage {
        let mut msg = DynamicMessage::new(desc.clone());
        if desc.full_name() == "google.protobuf.Timestamp" {
            let (seconds, nanos) = if self.odd() {
                let seconds = *TIMESTAMP_SECONDS.choose(self.rng).expect("non-empty");
                (
                    seconds,
                    *TIMESTAMP_NANOS.choose(self.rng).expect("non-empty"),
                )
            } else {
                (self.rng.random_range(1_700_000_000..1_790_000_000), 0)
            };
            msg.set_field_by_name("seconds", Value::I64(seconds));
            msg.set_field_by_name("nanos", Value::I32(nanos));
            return msg;
        }
        if depth >= MAX_DEPTH {
            return msg;
        }
        let skip = 0.05 + self.hostility * 0.3;
        for field in desc.fields() {
            if self.rng.random_bool(skip) {
                continue;
            }
            self.field = field.name().to_owned();
            let value = if field.is_map() {
                self.map(&field, depth, small)
            } else if field.is_list() {
                self.list(&field, depth, small)
            } else {
                self.single(&field.kind(), depth, small)
            };
            msg.set_field(&field, value);
        }
        msg
    }

    fn list(&mut self, field: &FieldDescriptor, depth: usize, small: bool) -> Value {
        let odd = self.odd();
        let long = odd && !small && !self.long_list_sent && self.rng.random_bool(0.15);
        let len = if long {
            self.long_list_sent = true;
            LONG_LIST
        } else if odd {
            *[0, 1, 5].choose(self.rng).expect("non-empty")
        } else {
            self.rng.random_range(1..4)
        };
        let kind = field.kind();
        Value::List(
            (0..len)
                .map(|_| self.single(&kind, depth + 1, small || long))
                .collect(),
        )
    }

    fn map(&mut self, field: &FieldDescriptor, depth: usize, small: bool) -> Value {
        let Kind::Message(entry) = field.kind() else {
            return Value::Map(Default::default());
        };
        let (key, value) = (
            entry.map_entry_key_field().kind(),
            entry.map_entry_value_field().kind(),
        );
        let mut map = std::collections::HashMap::new();
        for _ in 0..self.rng.random_range(0..4) {
            let k = match self.single(&key, depth + 1, true) {
                Value::String(s) => MapKey::String(s),
                Value::I32(n) => MapKey::I32(n),
                Value::I64(n) => MapKey::I64(n),
                Value::U32(n) => MapKey::U32(n),
                Value::U64(n) => MapKey::U64(n),
                Value::Bool(b) => MapKey::Bool(b),
                _ => continue,
            };
            let v = self.single(&value, depth + 1, small);
            map.insert(k, v);
        }
        Value::Map(map)
    }

    fn single(&mut self, kind: &Kind, depth: usize, small: bool) -> Value {
        let odd = self.odd();
        let r = &mut *self.rng;
        match kind {
            Kind::Bool => Value::Bool(r.random()),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(number(
                r,
                odd,
                &[0, -1, i32::MIN, i32::MAX],
                |r| r.random_range(-1000..100_000),
                1..100,
            )),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(number(
                r,
                odd,
                &[0, -1, i64::MIN, i64::MAX],
                |r| r.random(),
                1..100,
            )),
            Kind::Uint32 | Kind::Fixed32 => {
                Value::U32(number(r, odd, &[0, u32::MAX], |r| r.random(), 1..100))
            }
            Kind::Uint64 | Kind::Fixed64 => {
                Value::U64(number(r, odd, &[0, u64::MAX], |r| r.random(), 1..100))
            }
            Kind::Float => Value::F32(number(
                r,
                odd,
                &[-1.0, f32::NAN, f32::INFINITY, f32::MAX],
                |r| r.random(),
                0.0..1.0,
            )),
            Kind::Double => Value::F64(number(
                r,
                odd,
                &[-1.0, f64::NAN, f64::NEG_INFINITY, f64::MAX],
                |r| r.random(),
                0.0..1.0,
            )),
            Kind::String => Value::String(self.string(odd, small)),
            Kind::Bytes => Value::Bytes(self.string(odd, small).into_bytes().into()),
            Kind::Enum(e) => {
                let known: Vec<i32> = e
                    .values()
                    .map(|v| v.number())
                    .filter(|n| odd || *n != 0)
                    .collect();
                let n = if odd && r.random_bool(0.5) {
                    *[99, -5, i32::MAX].choose(r).expect("non-empty")
                } else {
                    *known.choose(r).unwrap_or(&0)
                };
                Value::EnumNumber(n)
            }
            Kind::Message(m) => Value::Message(self.message(m, depth + 1, small)),
        }
    }

    /// A plausible value, or an odd one: the palette, a random short
    /// string, or (not when `small`) a 70 kB one.
    fn string(&mut self, odd: bool, small: bool) -> String {
        let r = &mut *self.rng;
        let plausible = self
            .by_field
            .get(&self.field)
            .map_or(self.plausible, Vec::as_slice);
        if !odd && !plausible.is_empty() {
            return plausible.choose(r).expect("non-empty").clone();
        }
        match r.random_range(0..8) {
            0 if !small => "x".repeat(LONG_STRING - 2) + "é",
            1 => (0..r.random_range(1..20))
                .map(|_| r.random_range(' '..='~'))
                .collect(),
            2 => (0..r.random_range(1..8))
                .map(|_| char::from_u32(r.random_range(0..0x3000)).unwrap_or('?'))
                .collect(),
            _ => (*STRINGS.choose(r).expect("non-empty")).to_owned(),
        }
    }
}

/// When `odd`, a listed extreme value or a random one from the whole
/// range; else a small plausible one.
fn number<T: Copy + rand::distr::uniform::SampleUniform + PartialOrd>(
    rng: &mut ChaCha8Rng,
    odd: bool,
    extremes: &[T],
    random: impl FnOnce(&mut ChaCha8Rng) -> T,
    plausible: std::ops::Range<T>,
) -> T {
    match (odd, rng.random_bool(0.5)) {
        (true, true) => *extremes.choose(rng).expect("non-empty"),
        (true, false) => random(rng),
        (false, _) => rng.random_range(plausible),
    }
}

/// FNV-1a: a stable per-method seed offset.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A short, readable rendering of a request: long strings and lists cut.
pub fn describe(msg: &DynamicMessage) -> String {
    let mut out = String::new();
    write_message(&mut out, msg);
    out
}

fn write_message(out: &mut String, msg: &DynamicMessage) {
    out.push('{');
    let mut first = true;
    for (field, value) in msg.fields() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{}: ", field.name());
        write_value(out, value);
    }
    out.push('}');
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(20).collect();
            let _ = write!(out, "{head:?}…({} chars)", s.chars().count());
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Bytes(b) => {
            let _ = write!(out, "<{} bytes>", b.len());
        }
        Value::Message(m) if m.descriptor().full_name() == "google.protobuf.Timestamp" => {
            let get = |name: &str| {
                m.get_field_by_name(name)
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default()
            };
            let _ = write!(out, "Timestamp({}, {})", get("seconds"), get("nanos"));
        }
        Value::Message(m) => write_message(out, m),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().take(3).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            if items.len() > 3 {
                let _ = write!(out, ", … {} elements", items.len());
            }
            out.push(']');
        }
        Value::Map(map) => {
            let _ = write!(out, "<map of {}>", map.len());
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

/// Requests and replies as the raw bytes of their messages.
#[derive(Clone, Copy)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}
