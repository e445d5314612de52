//! Hostile input for the safetensors loader: arbitrary, truncated,
//! corrupted and hand-written adversarial files never make
//! `from_safetensors` or `load` panic, a load that succeeds holds finite
//! values, and the peak allocation of one load stays within a bound linear
//! in the header (see [`bound`]), however large the shapes, offsets or
//! lengths the file claims.
//!
//! Allocation is measured by a counting global allocator, per thread (the
//! test harness runs tests in parallel threads; the loader allocates on the
//! calling thread only), and only around the loader call, so that
//! proptest's own allocations are not counted.
//!
//! Every property prints one line with the number of cases it ran and the
//! largest peak it measured: run with `-- --nocapture` to see them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use staticnet::Error;
use staticnet::network::Parameters;
use staticnet::prelude::*;
use staticnet::weights::{MAX_HEADER_BYTES, Weights};

// ---------------------------------------------------------------------------
// The networks
// ---------------------------------------------------------------------------

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Mlp { input: 3, hidden: dense(4) -> relu, out: dense(2) }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Mlp64<f64> { input: 2, hidden: dense(3) -> tanh, out: dense(1) -> sigmoid }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Cnn {
        input: [1, 4, 4],
        conv: conv2d(2, kernel = 3, padding = 1) -> relu,
        pool: max_pool(2),
        flatten,
        out: dense(3),
    }
}

/// The safetensors bytes of network `which` (0: `Mlp`, 1: `Mlp64`, 2:
/// `Cnn`) from `seed`.
fn valid_file(which: usize, seed: u64) -> Vec<u8> {
    match which % 3 {
        0 => Mlp::from_seed(seed).to_safetensors(),
        1 => Mlp64::from_seed(seed).to_safetensors(),
        _ => Cnn::from_seed(seed).to_safetensors(),
    }
}

/// The header length a file records in its first 8 bytes.
fn header_len(bytes: &[u8]) -> usize {
    let mut n = [0; 8];
    n.copy_from_slice(&bytes[..8]);
    usize::try_from(u64::from_le_bytes(n)).unwrap()
}

// ---------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------

/// `System`, counting the live bytes of each thread and their peak.
struct Counting;

thread_local! {
    // const-initialized `Cell`s without destructors: using them allocates
    // nothing and registers nothing, so the allocator may touch them
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Records an allocation event: the live bytes change by `delta`, and for a
/// moment `transient` more bytes than before are live (a reallocation holds
/// the old and the new block while it copies).
fn note(transient: usize, delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get();
        let high = now.saturating_add(isize::try_from(transient).unwrap_or(isize::MAX));
        let _ = PEAK.try_with(|peak| {
            if high > peak.get() {
                peak.set(high);
            }
        });
        live.set(now.saturating_add(delta));
    });
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping
// touches only thread-local cells and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // counted before the call, so that an attempt counts even if it fails
        note(layout.size(), signed(layout.size()));
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), signed(layout.size()));
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -signed(layout.size()));
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size, signed(new_size) - signed(layout.size()));
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the peak number of bytes that were
/// live on this thread during the call beyond those live before it.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

/// The constant part of the allocation bound: error messages, the
/// network's own parameters, hash maps and the small vectors of a parse
/// (the largest measured on small inputs is under 10 KiB).
const BOUND_CONSTANT: usize = 64 * 1024;
/// The linear part: bytes allocated per byte of JSON header, at most.
///
/// safetensors parses the header with serde's `flatten`, which buffers
/// every JSON value as a 32-byte `Content` before typing it, and does so
/// even for values it then ignores. The worst text is arrays nested as
/// deep as serde_json allows (128): each `[` `]` pair, 2 bytes, becomes a
/// vector of one element with capacity 4, 128 bytes, so 64 bytes per header
/// byte (measured: 63.4). Flat arrays of numbers reach 28, objects nested
/// deep 51, thousands of tensors 17. 80 leaves a margin over 64.
const BOUND_PER_HEADER_BYTE: usize = 80;

/// The header bytes that the loader parses in an input of `len` bytes: at
/// most the input after its 8-byte length, at most `MAX_HEADER_BYTES`.
fn header_bytes(len: usize) -> usize {
    len.saturating_sub(8).min(MAX_HEADER_BYTES)
}

/// The most bytes one `from_safetensors` call on `len` bytes may allocate
/// at its peak: a constant plus a multiple of the header, whatever shapes,
/// offsets or lengths the file claims; tensor data is read in place, never
/// copied beyond the network's own parameters. With headers of at most
/// `MAX_HEADER_BYTES` (1 MiB), that is at most 80 MiB + 64 KiB in all.
fn bound(len: usize) -> usize {
    BOUND_CONSTANT + BOUND_PER_HEADER_BYTE * header_bytes(len)
}

// ---------------------------------------------------------------------------
// Loading, with its checks
// ---------------------------------------------------------------------------

/// Counts and measurements of one property.
#[derive(Default)]
struct Stats {
    cases: Cell<u64>,
    loads: Cell<u64>,
    ok: Cell<u64>,
    max_peak: Cell<usize>,
    max_peak_len: Cell<usize>,
    /// The largest peak beyond the constant, per header byte.
    max_ratio: Cell<f64>,
    /// The largest peak as a fraction of its bound.
    max_fraction: Cell<f64>,
}

impl Stats {
    fn case(&self) {
        self.cases.set(self.cases.get() + 1);
    }

    /// Records one load of `len` bytes that allocated `peak` bytes.
    fn load(&self, len: usize, peak: usize, ok: bool) {
        self.loads.set(self.loads.get() + 1);
        self.ok.set(self.ok.get() + u64::from(ok));
        if peak > self.max_peak.get() {
            self.max_peak.set(peak);
            self.max_peak_len.set(len);
        }
        let ratio = peak.saturating_sub(BOUND_CONSTANT) as f64 / header_bytes(len).max(1) as f64;
        if ratio > self.max_ratio.get() {
            self.max_ratio.set(ratio);
        }
        let fraction = peak as f64 / bound(len) as f64;
        if fraction > self.max_fraction.get() {
            self.max_fraction.set(fraction);
        }
    }

    /// Adds `other`'s counts and maxima to these.
    fn merge(&self, other: &Stats) {
        self.cases.set(self.cases.get() + other.cases.get());
        self.loads.set(self.loads.get() + other.loads.get());
        self.ok.set(self.ok.get() + other.ok.get());
        if other.max_peak.get() > self.max_peak.get() {
            self.max_peak.set(other.max_peak.get());
            self.max_peak_len.set(other.max_peak_len.get());
        }
        self.max_ratio
            .set(self.max_ratio.get().max(other.max_ratio.get()));
        self.max_fraction
            .set(self.max_fraction.get().max(other.max_fraction.get()));
    }

    fn report(&self, name: &str, started: std::time::Instant) {
        eprintln!(
            "hostile_weights: {name}: {} cases, {} loads ({} Ok) in {:.2} s; peak allocation \
             per load at most {} bytes (for a {}-byte input), {:.1} bytes per header byte above \
             the constant, {:.1}% of the bound {} KiB + {} x header bytes",
            self.cases.get(),
            self.loads.get(),
            self.ok.get(),
            started.elapsed().as_secs_f64(),
            self.max_peak.get(),
            self.max_peak_len.get(),
            self.max_ratio.get(),
            100.0 * self.max_fraction.get(),
            BOUND_CONSTANT / 1024,
            BOUND_PER_HEADER_BYTE,
        );
    }
}

/// Loads `bytes` as `N`, checking the allocation bound and that a success
/// holds finite values; returns whether it loaded.
fn load_one<N>(bytes: &[u8], stats: &Stats) -> Result<bool, TestCaseError>
where
    N: Weights,
    N::Scalar: staticnet::weights::Element,
{
    let (result, peak) = measure(|| N::from_safetensors(bytes));
    stats.load(bytes.len(), peak, result.is_ok());
    prop_assert!(
        peak <= bound(bytes.len()),
        "loading {} bytes as {} allocated {peak} bytes at the peak, more than the bound {}",
        bytes.len(),
        std::any::type_name::<N>(),
        bound(bytes.len())
    );
    match result {
        Ok(net) => {
            let mut finite = true;
            net.for_each_parameter(|_, values| {
                finite &= values.iter().all(nalgebra::ComplexField::is_finite);
            });
            prop_assert!(finite, "a loaded network holds a value that is not finite");
            Ok(true)
        }
        Err(error) => {
            // the message is built without panicking, and names the input
            let message = error.to_string();
            prop_assert!(
                message.contains("safetensors bytes"),
                "the error does not name its input: {message}"
            );
            Ok(false)
        }
    }
}

/// Loads `bytes` as each of the three networks; returns how many loaded.
fn load_all(bytes: &[u8], stats: &Stats) -> Result<usize, TestCaseError> {
    Ok(usize::from(load_one::<Mlp>(bytes, stats)?)
        + usize::from(load_one::<Mlp64>(bytes, stats)?)
        + usize::from(load_one::<Cnn>(bytes, stats)?))
}

/// A runner for `cases` cases that writes no failure files.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    })
}

/// Runs `test` on `cases` values of `strategy`, failing the Rust test with
/// the minimal failing input, then prints the property's summary line.
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value, &Stats) -> Result<(), TestCaseError>,
) {
    let stats = Stats::default();
    let started = std::time::Instant::now();
    let result = runner(cases).run(&strategy, |value| {
        stats.case();
        test(value, &stats)
    });
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
    stats.report(name, started);
}

// ---------------------------------------------------------------------------
// Files written by hand
// ---------------------------------------------------------------------------

/// A file: the header length `claimed`, then `rest`.
fn raw(claimed: u64, rest: &[u8]) -> Vec<u8> {
    let mut bytes = claimed.to_le_bytes().to_vec();
    bytes.extend_from_slice(rest);
    bytes
}

/// A file with the JSON `header`, its true length, then `data`.
fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = raw(header.len() as u64, header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The fingerprint metadata of network `which`.
fn fingerprint(which: usize) -> String {
    let summary = match which % 3 {
        0 => Mlp::summary(),
        1 => Mlp64::summary(),
        _ => Cnn::summary(),
    };
    format!("{:016x}", summary.fingerprint())
}

/// The dtype and tensors of network `which`: names and shapes.
fn tensors_of(which: usize) -> (&'static str, Vec<(String, Vec<usize>)>) {
    let list = |tensors: &[staticnet::network::TensorInfo]| {
        tensors
            .iter()
            .map(|t| (t.name.to_string(), t.shape.to_vec()))
            .collect()
    };
    match which % 3 {
        0 => ("F32", list(<Mlp as Parameters>::TENSORS)),
        1 => ("F64", list(<Mlp64 as Parameters>::TENSORS)),
        _ => ("F32", list(<Cnn as Parameters>::TENSORS)),
    }
}

/// Bits per element of a safetensors dtype, if it is one.
fn dtype_bits(dtype: &str) -> Option<u128> {
    Some(match dtype {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" | "F8_E4M3FNUZ"
        | "F8_E5M2FNUZ" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "F64" | "I64" | "U64" | "C64" => 64,
        _ => return None,
    })
}

/// One tensor entry of a hand-written header. Every field is raw JSON
/// text (the name without its quotes), so that it can be anything.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    dtype: String,
    dims: Vec<String>,
    /// `None`: the offsets that the dtype and shape imply, following the
    /// previous tensor (what a valid file holds).
    offsets: Option<(String, String)>,
}

/// How many data bytes follow the header.
#[derive(Clone, Copy, Debug)]
enum DataLen {
    /// As many as the consistent offsets imply (if at most 64 KiB).
    Exact,
    /// That many more or fewer.
    Off(i8),
    /// A fixed number.
    Fixed(u16),
}

/// What the data bytes are.
#[derive(Clone, Copy, Debug)]
enum Fill {
    Zeros,
    Seeded(u64),
    Ones,
}

/// A hand-written file.
#[derive(Clone, Debug)]
struct Spec {
    /// Raw JSON of the `__metadata__` value, if any.
    metadata: Option<String>,
    entries: Vec<Entry>,
    data: DataLen,
    fill: Fill,
    /// Added to the true header length in the first 8 bytes.
    length_error: i8,
    /// A network's true header with finite data, unchanged: it must load.
    pristine: bool,
}

impl Spec {
    fn bytes(&self) -> Vec<u8> {
        let mut header = String::from("{");
        let mut first = true;
        let mut comma = |header: &mut String| {
            if !first {
                header.push(',');
            }
            first = false;
        };
        if let Some(metadata) = &self.metadata {
            comma(&mut header);
            write!(header, "\"__metadata__\":{metadata}").unwrap();
        }
        let mut end: u128 = 0;
        for entry in &self.entries {
            let (start, stop) = match &entry.offsets {
                Some((a, b)) => (a.clone(), b.clone()),
                None => {
                    let elements = entry.dims.iter().try_fold(1u128, |product, dim| {
                        product.checked_mul(dim.parse::<u128>().ok()?)
                    });
                    let bytes = elements
                        .zip(dtype_bits(&entry.dtype))
                        .and_then(|(n, bits)| n.checked_mul(bits))
                        .map_or(0, |bits| bits / 8);
                    let start = end;
                    end = end.saturating_add(bytes);
                    (start.to_string(), end.to_string())
                }
            };
            comma(&mut header);
            write!(
                header,
                "\"{}\":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{start},{stop}]}}",
                entry.name,
                entry.dtype,
                entry.dims.join(",")
            )
            .unwrap();
        }
        header.push('}');
        let len = match self.data {
            DataLen::Exact if end <= 1 << 16 => end as usize,
            DataLen::Exact => 0,
            DataLen::Off(d) => (end.min(1 << 16) as usize).saturating_add_signed(d.into()),
            DataLen::Fixed(n) => n.into(),
        };
        let data: Vec<u8> = match self.fill {
            Fill::Zeros => vec![0; len],
            Fill::Ones => (0..len)
                .map(|i| if i % 4 == 3 { 0x3f } else { 0 })
                .collect(),
            Fill::Seeded(seed) => {
                let mut x = seed | 1;
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect()
            }
        };
        let claimed = (header.len() as u64).wrapping_add_signed(self.length_error.into());
        let mut bytes = raw(claimed, header.as_bytes());
        bytes.extend_from_slice(&data);
        bytes
    }
}

/// JSON numbers and things that are not numbers, small ones most often.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..6).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        3 => select(vec![
            "4294967296",                              // 2^32
            "2305843009213693951",                     // 2^61 - 1
            "2305843009213693952",                     // 2^61
            "4611686018427387904",                     // 2^62
            "9223372036854775807",                     // 2^63 - 1
            "9223372036854775808",                     // 2^63
            "18446744073709551615",                    // u64::MAX
            "18446744073709551616",                    // 2^64
            "340282366920938463463374607431768211456", // 2^128
            "-1",
            "-0",
            "1.5",
            "1e3",
            "1E400",
            "\"3\"",
            "null",
            "true",
            "[]",
            "{}",
            "0x10",
            "01",
        ])
        .prop_map(String::from),
    ]
}

fn name() -> impl Strategy<Value = String> {
    select(vec![
        "hidden.weight",
        "hidden.bias",
        "out.weight",
        "out.bias",
        "conv.weight",
        "conv.bias",
        "a",
        "",
        "__metadata__",
        "\\u0000",
        "\\ud800",
        "\\\"",
        "é",
        "hidden.weight ",
    ])
    .prop_map(String::from)
}

fn dtype() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["F32", "F64"]),
        2 => select(vec![
            "BF16", "F16", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8", "BOOL", "F4",
            "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "C64",
        ]),
        1 => select(vec!["f32", "", "F128", "F32 ", "\\u0046\\u0033\\u0032"]),
    ]
    .prop_map(String::from)
}

/// `__metadata__` values: string maps, a lying or a foreign fingerprint,
/// and values that are not a map of strings.
fn metadata() -> impl Strategy<Value = Option<String>> {
    let fingerprints = (0..3).map(fingerprint).collect::<Vec<_>>();
    prop_oneof![
        2 => Just(None),
        2 => select(fingerprints).prop_map(|f| Some(format!(
            "{{\"format\":\"pt\",\"staticnet.fingerprint\":\"{f}\"}}"
        ))),
        1 => any::<u64>().prop_map(|f| Some(format!("{{\"staticnet.fingerprint\":\"{f:016x}\"}}"))),
        2 => select(vec![
            "{}",
            "{\"format\":\"pt\"}",
            "{\"staticnet.fingerprint\":1}",
            "{\"staticnet.fingerprint\":null}",
            "{\"a\":{\"b\":\"c\"}}",
            "{\"a\":[\"b\"]}",
            "{\"\":\"\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"b\",\"a\":\"c\"}",
            "[]",
            "[\"a\",\"b\"]",
            "1",
            "\"x\"",
            "null",
            "true",
        ])
        .prop_map(|m| Some(m.to_string())),
    ]
}

fn data_len() -> impl Strategy<Value = DataLen> {
    prop_oneof![
        4 => Just(DataLen::Exact),
        1 => (-8i8..8).prop_map(DataLen::Off),
        1 => (0u16..512).prop_map(DataLen::Fixed),
    ]
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        2 => Just(Fill::Zeros),
        1 => Just(Fill::Ones),
        2 => any::<u64>().prop_map(Fill::Seeded),
    ]
}

fn length_error() -> impl Strategy<Value = i8> {
    prop_oneof![8 => Just(0i8), 1 => any::<i8>()]
}

/// Headers of anything: names, dtypes, shapes and offsets at random.
fn wild_spec() -> impl Strategy<Value = Spec> {
    let entry = (
        name(),
        dtype(),
        prop::collection::vec(number(), 0..5),
        prop::option::weighted(0.3, (number(), number())),
    )
        .prop_map(|(name, dtype, dims, offsets)| Entry {
            name,
            dtype,
            dims,
            offsets,
        });
    (
        metadata(),
        prop::collection::vec(entry, 0..6),
        data_len(),
        fill(),
        length_error(),
    )
        .prop_map(|(metadata, entries, data, fill, length_error)| Spec {
            metadata,
            entries,
            data,
            fill,
            length_error,
            pristine: false,
        })
}

/// A change to a network's true header.
#[derive(Clone, Debug)]
enum Mutation {
    Dtype(Index, String),
    Dim(Index, Index, String),
    AddDim(Index, String),
    RemoveDim(Index),
    Drop(Index),
    Duplicate(Index),
    Rename(Index, String),
    Extra(String, String, Vec<String>),
    Offsets(Index, String, String),
    Swap(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), dtype()).prop_map(|(i, d)| Mutation::Dtype(i, d)),
        (any::<Index>(), any::<Index>(), number()).prop_map(|(i, j, n)| Mutation::Dim(i, j, n)),
        (any::<Index>(), number()).prop_map(|(i, n)| Mutation::AddDim(i, n)),
        any::<Index>().prop_map(Mutation::RemoveDim),
        any::<Index>().prop_map(Mutation::Drop),
        any::<Index>().prop_map(Mutation::Duplicate),
        (any::<Index>(), name()).prop_map(|(i, n)| Mutation::Rename(i, n)),
        (name(), dtype(), prop::collection::vec(number(), 0..4))
            .prop_map(|(n, d, s)| Mutation::Extra(n, d, s)),
        (any::<Index>(), number(), number()).prop_map(|(i, a, b)| Mutation::Offsets(i, a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
    ]
}

/// A network's true header (its fingerprint, or another network's, or
/// none), with up to three mutations: with none, the file loads.
fn mutated_spec() -> impl Strategy<Value = Spec> {
    (
        0usize..3,
        prop_oneof![3 => Just(0usize), 1 => 1usize..3],
        any::<bool>(),
        prop::collection::vec(mutation(), 0..4),
        data_len(),
        fill(),
        length_error(),
    )
        .prop_map(
            |(which, lie, with_metadata, mutations, data, fill, length_error)| {
                let pristine = mutations.is_empty()
                    && (lie == 0 || !with_metadata)
                    && matches!(data, DataLen::Exact)
                    && !matches!(fill, Fill::Seeded(_))
                    && length_error == 0;
                let (dtype, tensors) = tensors_of(which);
                let mut entries: Vec<Entry> = tensors
                    .into_iter()
                    .map(|(name, shape)| Entry {
                        name,
                        dtype: dtype.into(),
                        dims: shape.iter().map(usize::to_string).collect(),
                        offsets: None,
                    })
                    .collect();
                for m in mutations {
                    let n = entries.len();
                    match m {
                        _ if n == 0 => {}
                        Mutation::Dtype(i, d) => entries[i.index(n)].dtype = d,
                        Mutation::Dim(i, j, d) => {
                            let dims = &mut entries[i.index(n)].dims;
                            if !dims.is_empty() {
                                let j = j.index(dims.len());
                                dims[j] = d;
                            }
                        }
                        Mutation::AddDim(i, d) => entries[i.index(n)].dims.push(d),
                        Mutation::RemoveDim(i) => {
                            entries[i.index(n)].dims.pop();
                        }
                        Mutation::Drop(i) => {
                            entries.remove(i.index(n));
                        }
                        Mutation::Duplicate(i) => entries.push(entries[i.index(n)].clone()),
                        Mutation::Rename(i, name) => entries[i.index(n)].name = name,
                        Mutation::Extra(name, dtype, dims) => entries.push(Entry {
                            name,
                            dtype,
                            dims,
                            offsets: None,
                        }),
                        Mutation::Offsets(i, a, b) => entries[i.index(n)].offsets = Some((a, b)),
                        Mutation::Swap(i, j) => entries.swap(i.index(n), j.index(n)),
                    }
                }
                let metadata = with_metadata.then(|| {
                    format!(
                        "{{\"format\":\"pt\",\"staticnet.fingerprint\":\"{}\"}}",
                        fingerprint(which + lie)
                    )
                });
                Spec {
                    metadata,
                    entries,
                    data,
                    fill,
                    length_error,
                    pristine,
                }
            },
        )
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    check(
        "arbitrary bytes (0..4096)",
        10_000,
        prop::collection::vec(any::<u8>(), 0..4096),
        |bytes, stats| {
            load_all(&bytes, stats)?;
            Ok(())
        },
    );
}

#[test]
fn arbitrary_bytes_behind_a_plausible_header_length_never_panic() {
    // a random header length would almost always exceed the input: claim
    // one that fits, so that the JSON parser sees the random bytes
    check(
        "arbitrary bytes behind a header length that fits",
        10_000,
        (prop::collection::vec(any::<u8>(), 8..2048), any::<Index>()),
        |(mut bytes, n), stats| {
            let n = n.index(bytes.len() - 8 + 1) as u64;
            bytes[..8].copy_from_slice(&n.to_le_bytes());
            load_all(&bytes, stats)?;
            Ok(())
        },
    );
}

#[test]
fn json_token_soup_never_panics() {
    let tokens = vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        " ",
        "0",
        "1",
        "-1",
        "4",
        "18446744073709551615",
        "18446744073709551616",
        "1e400",
        "1.5",
        "null",
        "true",
        "\"F32\"",
        "\"F64\"",
        "\"BF16\"",
        "\"dtype\"",
        "\"shape\"",
        "\"data_offsets\"",
        "\"__metadata__\"",
        "\"hidden.weight\"",
        "\"out.bias\"",
        "\"staticnet.fingerprint\"",
        "\\u0000",
        "\\ud800",
        "\u{feff}",
        "\0",
    ];
    check(
        "JSON token soup",
        10_000,
        (
            prop::collection::vec(select(tokens), 0..96),
            0usize..64,
            any::<u8>(),
        ),
        |(tokens, data, byte), stats| {
            let header = tokens.concat();
            load_all(&with_header(&header, &vec![byte; data]), stats)?;
            Ok(())
        },
    );
}

#[test]
fn truncated_and_extended_valid_files_are_refused() {
    // every prefix of every network's file, exhaustively
    let started = std::time::Instant::now();
    let stats = Stats::default();
    for which in 0..3 {
        let good = valid_file(which, 1);
        assert_eq!(
            load_all(&good, &stats).unwrap(),
            1,
            "the whole file loads as its network only"
        );
        for cut in 0..good.len() {
            stats.case();
            assert_eq!(load_all(&good[..cut], &stats).unwrap(), 0, "cut at {cut}");
            let error = match which {
                0 => Mlp::from_safetensors(&good[..cut]).unwrap_err(),
                1 => Mlp64::from_safetensors(&good[..cut]).unwrap_err(),
                _ => Cnn::from_safetensors(&good[..cut]).unwrap_err(),
            };
            assert!(matches!(error, Error::Format { .. }), "{cut}: {error}");
        }
    }
    stats.report("every prefix of each network's file (exhaustive)", started);

    check(
        "valid files cut at a random point or extended",
        2_000,
        (
            0usize..3,
            any::<u64>(),
            any::<Index>(),
            prop::collection::vec(any::<u8>(), 1..64),
        ),
        |(which, seed, cut, tail), stats| {
            let good = valid_file(which, seed);
            let cut = cut.index(good.len());
            prop_assert_eq!(load_all(&good[..cut], stats)?, 0, "cut at {}", cut);
            let mut longer = good.clone();
            longer.extend_from_slice(&tail);
            prop_assert_eq!(
                load_all(&longer, stats)?,
                0,
                "{} bytes appended",
                tail.len()
            );
            Ok(())
        },
    );
}

/// Where an overwrite lands.
#[derive(Clone, Copy, Debug)]
enum Region {
    /// The 8 bytes of the header length.
    Length,
    /// The JSON header.
    Json,
    /// Anywhere.
    Anywhere,
}

#[test]
fn corrupted_valid_files_never_panic_and_load_only_finite_values() {
    let region = prop_oneof![
        Just(Region::Length),
        Just(Region::Json),
        Just(Region::Anywhere)
    ];
    check(
        "valid files with 1..8 bytes overwritten",
        10_000,
        (
            0usize..3,
            any::<u64>(),
            prop::collection::vec((region, any::<Index>(), any::<u8>()), 1..=8),
        ),
        |(which, seed, writes), stats| {
            let mut bytes = valid_file(which, seed);
            let header = header_len(&bytes);
            for (region, at, byte) in writes {
                let at = match region {
                    Region::Length => at.index(8),
                    Region::Json => 8 + at.index(header),
                    Region::Anywhere => at.index(bytes.len()),
                };
                bytes[at] = byte;
            }
            load_all(&bytes, stats)?;
            Ok(())
        },
    );
}

#[test]
fn hand_written_headers_never_panic() {
    check(
        "hand-written headers: random names, dtypes, shapes, offsets, metadata",
        10_000,
        wild_spec(),
        |spec, stats| {
            load_all(&spec.bytes(), stats)?;
            Ok(())
        },
    );
}

#[test]
fn mutated_true_headers_never_panic_and_load_only_when_right() {
    check(
        "true headers with 0..3 mutations (dtype, shape, offsets, names, fingerprint)",
        10_000,
        mutated_spec(),
        |spec, stats| {
            let loaded = load_all(&spec.bytes(), stats)?;
            prop_assert!(loaded <= 1, "one file loaded as {} networks", loaded);
            if spec.pristine {
                prop_assert_eq!(loaded, 1, "a true header with finite data did not load");
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------
// Fixed adversarial cases
// ---------------------------------------------------------------------------

/// A tensor entry of JSON text.
fn entry(name: &str, dtype: &str, shape: &str, offsets: &str) -> String {
    format!("\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}")
}

/// Files that no network may load, each with what it tries.
fn adversarial_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |what: &str, bytes: Vec<u8>| files.push((what.to_string(), bytes));

    // the header length
    add("header length u64::MAX", raw(u64::MAX, b"{}"));
    add("header length 2^63", raw(1 << 63, b"{}"));
    add(
        "header length MAX_HEADER_BYTES + 1, file that long",
        raw(
            MAX_HEADER_BYTES as u64 + 1,
            &vec![b' '; MAX_HEADER_BYTES + 1],
        ),
    );
    add(
        "header length 100_000_000 (the crate's own limit), short file",
        raw(100_000_000, b"{}"),
    );
    add("header length beyond the file", raw(1000, b"{}"));
    add("header length one beyond the file", raw(3, b"{}"));
    add("header length 0", raw(0, b"{}"));
    add("header length 0, nothing after it", raw(0, b""));
    add("7 bytes", vec![2, 0, 0, 0, 0, 0, 0]);
    add("empty", Vec::new());

    // shapes and sizes that overflow
    let big = "4611686018427387904"; // 2^62
    add(
        "shape [2^62, 2^62]: the element count overflows",
        with_header(
            &format!(
                "{{{}}}",
                entry("a", "F32", &format!("[{big},{big}]"), "[0,16]")
            ),
            &[0; 16],
        ),
    );
    add(
        "shape [2^62] F32: the bit count overflows",
        with_header(
            &format!(
                "{{{}}}",
                entry("out.bias", "F32", &format!("[{big}]"), "[0,16]")
            ),
            &[0; 16],
        ),
    );
    add(
        "shape [2^62] F32 with offsets claiming all of it",
        with_header(
            &format!(
                "{{{}}}",
                entry(
                    "out.bias",
                    "F32",
                    &format!("[{big}]"),
                    "[0,18446744073709551615]"
                )
            ),
            &[0; 16],
        ),
    );
    add(
        "shape [2^61 - 1] U8 with offsets claiming it, 8 bytes of data",
        with_header(
            &format!(
                "{{{}}}",
                entry(
                    "a",
                    "U8",
                    "[2305843009213693951]",
                    "[0,2305843009213693951]"
                )
            ),
            &[0; 8],
        ),
    );
    add(
        "shape [2^32, 2^32, 2^32]",
        with_header(
            &format!(
                "{{{}}}",
                entry("a", "F32", "[4294967296,4294967296,4294967296]", "[0,4]")
            ),
            &[0; 4],
        ),
    );
    add(
        "a dimension of 2^64 (beyond u64)",
        with_header(
            &format!(
                "{{{}}}",
                entry("a", "F32", "[18446744073709551616]", "[0,4]")
            ),
            &[0; 4],
        ),
    );
    // nine tensors of 2^61 - 1 bytes each: the offsets sum to nearly 2^64,
    // so that the end of the data plus the header length overflows usize
    {
        let size: u64 = (1 << 61) - 1;
        let mut header = String::from("{");
        let mut start: u64 = 0;
        for i in 0..9 {
            let end = start.saturating_add(size);
            if i > 0 {
                header.push(',');
            }
            header.push_str(&entry(
                &format!("t{i}"),
                "U8",
                &format!("[{}]", end - start),
                &format!("[{start},{end}]"),
            ));
            start = end;
        }
        header.push('}');
        add(
            "nine U8 tensors of 2^61 - 1 bytes: offsets sum near 2^64",
            with_header(&header, &[0; 8]),
        );
        // the same, ending exactly at u64::MAX - 7, so that adding the 8
        // bytes of the length overflows exactly
        let mut header = String::from("{");
        let mut start: u64 = 0;
        let sizes = [size; 8];
        for (i, size) in sizes.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            header.push_str(&entry(
                &format!("t{i}"),
                "U8",
                &format!("[{size}]"),
                &format!("[{start},{}]", start + size),
            ));
            start += size;
        }
        let rest = u64::MAX - 7 - start;
        header.push(',');
        header.push_str(&entry(
            "t8",
            "U8",
            &format!("[{rest}]"),
            &format!("[{start},{}]", start + rest),
        ));
        header.push('}');
        add(
            "U8 tensors whose offsets end at u64::MAX - 7",
            with_header(&header, &[0; 8]),
        );
    }
    // 2^63 F4 elements are 2^61 bytes: bit counts near the limit
    add(
        "F4 tensor of 2^62 elements",
        with_header(
            &format!(
                "{{{}}}",
                entry("a", "F4", &format!("[{big}]"), "[0,2305843009213693952]")
            ),
            &[0; 8],
        ),
    );
    add(
        "F6 tensor of an odd number of elements (bits not a multiple of 8)",
        with_header(
            &format!("{{{}}}", entry("a", "F6_E2M3", "[3]", "[0,2]")),
            &[0; 2],
        ),
    );

    // offsets
    let mlp_out_bias = |offsets: &str, data: usize| {
        with_header(
            &format!("{{{}}}", entry("out.bias", "F32", "[2]", offsets)),
            &vec![0; data],
        )
    };
    add(
        "offsets [0, u64::MAX]",
        mlp_out_bias("[0,18446744073709551615]", 8),
    );
    add(
        "offsets [u64::MAX, u64::MAX]",
        mlp_out_bias("[18446744073709551615,18446744073709551615]", 8),
    );
    add(
        "offsets [8, 0] (end before start)",
        mlp_out_bias("[8,0]", 8),
    );
    add("offsets [4, 12] (a gap before)", mlp_out_bias("[4,12]", 12));
    add("offsets beyond the data", mlp_out_bias("[0,8]", 4));
    add("offsets short of the data", mlp_out_bias("[0,8]", 12));
    add(
        "offsets [0, 2^64]",
        mlp_out_bias("[0,18446744073709551616]", 8),
    );
    add("offsets negative", mlp_out_bias("[-8,0]", 8));
    add("offsets fractional", mlp_out_bias("[0,8.0]", 8));
    add("offsets as strings", mlp_out_bias("[\"0\",\"8\"]", 8));
    add("offsets with three numbers", mlp_out_bias("[0,8,16]", 8));
    add("offsets with one number", mlp_out_bias("[8]", 8));
    add("offsets null", mlp_out_bias("null", 8));
    add(
        "overlapping offsets",
        with_header(
            &format!(
                "{{{},{}}}",
                entry("out.bias", "F32", "[2]", "[0,8]"),
                entry("hidden.bias", "F32", "[4]", "[4,20]")
            ),
            &[0; 20],
        ),
    );
    add(
        "two tensors on the same bytes",
        with_header(
            &format!(
                "{{{},{}}}",
                entry("out.bias", "F32", "[2]", "[0,8]"),
                entry("a", "F32", "[2]", "[0,8]")
            ),
            &[0; 8],
        ),
    );

    // numbers that are not sizes
    add("shape [-1]", mlp_out_bias_shape("[-1]"));
    add("shape [2.0]", mlp_out_bias_shape("[2.0]"));
    add("shape [2e0]", mlp_out_bias_shape("[2e0]"));
    add("shape [\"2\"]", mlp_out_bias_shape("[\"2\"]"));
    add("shape 2", mlp_out_bias_shape("2"));
    add("shape null", mlp_out_bias_shape("null"));
    add("shape [1e400]", mlp_out_bias_shape("[1e400]"));
    add("shape [02]", mlp_out_bias_shape("[02]"));

    // names
    add(
        "duplicate tensor names",
        with_header(
            &format!(
                "{{{},{}}}",
                entry("out.bias", "F32", "[2]", "[0,8]"),
                entry("out.bias", "F32", "[2]", "[8,16]")
            ),
            &[0; 16],
        ),
    );
    add(
        "duplicate tensor names, different shapes",
        with_header(
            &format!(
                "{{{},{}}}",
                entry("out.bias", "F32", "[2]", "[0,8]"),
                entry("out.bias", "F32", "[3]", "[8,20]")
            ),
            &[0; 20],
        ),
    );
    add(
        "a tensor named __metadata__",
        with_header(
            &format!("{{{}}}", entry("__metadata__", "F32", "[2]", "[0,8]")),
            &[0; 8],
        ),
    );
    add(
        "a tensor name with a lone surrogate",
        with_header(
            &format!("{{{}}}", entry("\\ud800", "F32", "[2]", "[0,8]")),
            &[0; 8],
        ),
    );
    add(
        "a name of 100 000 characters",
        with_header(
            &format!("{{{}}}", entry(&"x".repeat(100_000), "F32", "[2]", "[0,8]")),
            &[0; 8],
        ),
    );

    // nesting and size
    add(
        "JSON nested 100 000 deep in a shape",
        mlp_out_bias_shape(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
    );
    add(
        "JSON nested 100 000 deep in the metadata",
        with_header(
            &format!(
                "{{\"__metadata__\":{}{}}}",
                "{\"a\":".repeat(100_000),
                "}".repeat(100_000)
            ),
            &[],
        ),
    );
    add(
        "JSON nested 100 000 deep in an unknown field",
        with_header(
            &format!(
                "{{\"out.bias\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":{}{}}}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            &[0; 8],
        ),
    );
    add(
        "JSON nested 100 000 deep, unclosed",
        with_header(&"[".repeat(100_000), &[]),
    );
    {
        // the largest header accepted, one shape of ~500 000 ones
        let prefix = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1";
        let suffix = "],\"data_offsets\":[0,1]}}";
        let ones = (MAX_HEADER_BYTES - prefix.len() - suffix.len()) / 2;
        let header = format!("{prefix}{}{suffix}", ",1".repeat(ones));
        assert!(header.len() <= MAX_HEADER_BYTES);
        add(
            "the largest accepted header: a shape of 500 000 ones",
            with_header(&header, &[0]),
        );
        // as many tiny tensors as fit
        let mut header = String::from("{");
        let mut i = 0;
        while header.len() < MAX_HEADER_BYTES - 100 {
            if i > 0 {
                header.push(',');
            }
            header.push_str(&entry(&format!("t{i}"), "U8", "[0]", "[0,0]"));
            i += 1;
        }
        header.push('}');
        add(
            "the largest accepted header: 20 000 empty tensors",
            with_header(&header, &[]),
        );
        // empty arrays in an ignored field
        let prefix =
            "{\"out.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":[[]";
        let suffix = "]}}";
        let n = (MAX_HEADER_BYTES - prefix.len() - suffix.len()) / 3;
        let header = format!("{prefix}{}{suffix}", ",[]".repeat(n));
        add(
            "the largest accepted header: 350 000 empty arrays in an unknown field",
            with_header(&header, &[0; 8]),
        );
        // many metadata strings
        let mut header = String::from("{\"__metadata__\":{");
        let mut i = 0;
        while header.len() < MAX_HEADER_BYTES - 100 {
            if i > 0 {
                header.push(',');
            }
            write!(header, "\"{i:x}\":\"\"").unwrap();
            i += 1;
        }
        header.push_str("}}");
        add(
            "the largest accepted header: 100 000 metadata entries",
            with_header(&header, &[]),
        );
        // the most allocation per header byte: JSON values are buffered
        // (serde's `flatten`) before they are typed, and every nested array
        // of one element takes a vector of four 32-byte values for its 2
        // bytes of text
        let fill = |unit: &str, open: &str, close: &str| {
            let n = (MAX_HEADER_BYTES - open.len() - close.len()) / (unit.len() + 1);
            let mut header = String::with_capacity(MAX_HEADER_BYTES);
            header.push_str(open);
            for i in 0..n {
                if i > 0 {
                    header.push(',');
                }
                header.push_str(unit);
            }
            header.push_str(close);
            header
        };
        let nested = format!("{}{}", "[".repeat(120), "]".repeat(120));
        add(
            "the largest accepted header: arrays nested 120 deep, repeated",
            with_header(&fill(&nested, "{\"x\":[", "]}"), &[]),
        );
        let nested = format!("{}0{}", "{\"\":".repeat(60), "}".repeat(60));
        add(
            "the largest accepted header: objects nested 60 deep, repeated",
            with_header(&fill(&nested, "{\"x\":[", "]}"), &[]),
        );
        add(
            "the largest accepted header: 500 000 zeros in an unknown field",
            with_header(&fill("0", "{\"x\":[", "]}"), &[]),
        );
        add(
            "the largest accepted header: 250 000 escaped strings",
            with_header(&fill("\"\\n\"", "{\"x\":[", "]}"), &[]),
        );
        add(
            "the largest accepted header: 500 000 ones in a valid tensor's unknown field",
            with_header(
                &fill(
                    "1",
                    "{\"out.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":[",
                    "]}}",
                ),
                &[0; 8],
            ),
        );
        // one header byte too many
        let header = format!(
            "{{\"__metadata__\":{{\"a\":\"{}\"}}}}",
            "x".repeat(MAX_HEADER_BYTES)
        );
        add(
            "a header one metadata string over MAX_HEADER_BYTES",
            with_header(&header, &[]),
        );
    }

    // dtypes
    for dtype in [
        "BF16", "F16", "I64", "U64", "I32", "BOOL", "U8", "F4", "F6_E2M3", "F8_E4M3", "C64", "f32",
        "", "F128",
    ] {
        // Mlp's tensors, each of the wrong dtype, with consistent offsets
        let (_, tensors) = tensors_of(0);
        let bits = dtype_bits(dtype).unwrap_or(32) as usize;
        let mut header = String::from("{");
        let mut start = 0;
        for (i, (name, shape)) in tensors.iter().enumerate() {
            let bytes = shape.iter().product::<usize>() * bits / 8;
            if i > 0 {
                header.push(',');
            }
            header.push_str(&entry(
                name,
                dtype,
                &format!("{shape:?}"),
                &format!("[{start},{}]", start + bytes),
            ));
            start += bytes;
        }
        header.push('}');
        add(
            &format!("Mlp's tensors as {dtype:?}"),
            with_header(&header, &vec![0; start]),
        );
    }

    // zero-size tensors, in the place of real ones
    add(
        "zero-size tensors under the network's names",
        with_header(
            &format!(
                "{{{},{},{},{}}}",
                entry("hidden.weight", "F32", "[4,0]", "[0,0]"),
                entry("hidden.bias", "F32", "[0]", "[0,0]"),
                entry("out.weight", "F32", &format!("[0,{big}]"), "[0,0]"),
                entry("out.bias", "F32", "[2,0,3]", "[0,0]"),
            ),
            &[],
        ),
    );
    add("no tensors at all", with_header("{}", &[]));
    add(
        "no tensors, only metadata",
        with_header("{\"__metadata__\":{\"format\":\"pt\"}}", &[]),
    );

    // metadata that is not a map of strings
    for metadata in [
        "1",
        "[]",
        "[\"a\"]",
        "\"x\"",
        "true",
        "{\"staticnet.fingerprint\":1}",
        "{\"a\":{\"b\":\"c\"}}",
        "{\"a\":[\"b\"]}",
        "{\"a\":null}",
        "{\"a\":\"\\ud800\"}",
    ] {
        add(
            &format!("metadata {metadata}"),
            with_header(&format!("{{\"__metadata__\":{metadata}}}"), &[]),
        );
    }

    // encodings
    let mut invalid = br#"{"out.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#.to_vec();
    invalid.extend_from_slice(b"\"\xff\xfe\":1}");
    let mut bytes = raw(invalid.len() as u64, &invalid);
    bytes.extend_from_slice(&[0; 8]);
    add("invalid UTF-8 in the header", bytes);
    let overlong = b"{\"\xc0\xaf\":1}";
    add(
        "an overlong UTF-8 encoding in the header",
        raw(overlong.len() as u64, overlong),
    );
    add(
        "a byte-order mark before the header",
        with_header("\u{feff}{}", &[]),
    );
    add("a NUL byte in the header", with_header("{}\0", &[]));
    add(
        "a header that is not an object",
        with_header("[1,2,3]", &[]),
    );
    add("a header that is a string", with_header("\"{}\"", &[]));
    add("two JSON objects", with_header("{}{}", &[]));
    add("a header of spaces", with_header("        ", &[]));

    // valid files that lie
    for which in 0..3 {
        let (dtype, tensors) = tensors_of(which);
        let bits = dtype_bits(dtype).unwrap() as usize;
        for other in 0..3 {
            if other == which {
                continue;
            }
            let mut header = format!(
                "{{\"__metadata__\":{{\"staticnet.fingerprint\":\"{}\"}}",
                fingerprint(other)
            );
            let mut start = 0;
            for (name, shape) in &tensors {
                let bytes = shape.iter().product::<usize>() * bits / 8;
                header.push(',');
                header.push_str(&entry(
                    name,
                    dtype,
                    &format!("{shape:?}"),
                    &format!("[{start},{}]", start + bytes),
                ));
                start += bytes;
            }
            header.push('}');
            add(
                &format!("network {which}'s tensors with network {other}'s fingerprint"),
                with_header(&header, &vec![0; start]),
            );
        }
    }
    // a valid file of one network with its values not finite
    for (what, value) in [("NaN", f32::NAN), ("infinity", f32::INFINITY)] {
        let mut net = Mlp::from_seed(3);
        net.out.bias[1] = value;
        add(&format!("Mlp with a {what}"), net.to_safetensors());
    }
    files
}

fn mlp_out_bias_shape(shape: &str) -> Vec<u8> {
    with_header(
        &format!("{{{}}}", entry("out.bias", "F32", shape, "[0,8]")),
        &[0; 8],
    )
}

#[test]
fn adversarial_files_are_refused_within_the_allocation_bound() {
    let started = std::time::Instant::now();
    let stats = Stats::default();
    let mut peaks = Vec::new();
    for (what, bytes) in adversarial_files() {
        let one = Stats::default();
        one.case();
        let loaded = load_all(&bytes, &one).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(loaded, 0, "{what}: loaded");
        peaks.push((one.max_peak.get(), bytes.len(), what));
        stats.merge(&one);
    }
    peaks.sort_unstable_by(|a, b| b.cmp(a));
    for (peak, len, what) in peaks.iter().take(10) {
        eprintln!(
            "hostile_weights:   peak {peak} bytes ({:.1} per header byte) for {len} input bytes: {what}",
            *peak as f64 / header_bytes(*len).max(1) as f64
        );
    }
    stats.report("fixed adversarial files", started);
}

#[test]
fn data_is_never_copied_beyond_the_network() {
    // a valid file with 16 MiB of data in a tensor the network lacks: the
    // loader reads views, so the peak does not grow with the data
    let data = vec![0u8; 16 << 20];
    let header = format!(
        "{{{}}}",
        entry(
            "a",
            "U8",
            &format!("[{}]", data.len()),
            &format!("[0,{}]", data.len())
        )
    );
    let bytes = with_header(&header, &data);
    let (result, peak) = measure(|| Mlp::from_safetensors(&bytes));
    assert!(result.is_err());
    assert!(peak < BOUND_CONSTANT, "{peak}");
    eprintln!("hostile_weights: a 16 MiB tensor the network lacks: peak {peak} bytes");
}

// ---------------------------------------------------------------------------
// Files on disk
// ---------------------------------------------------------------------------

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("staticnet-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn files_on_disk_are_refused_with_their_name_and_bounded_reads() {
    let limit = 8 + MAX_HEADER_BYTES + <Mlp as Parameters>::PARAMETER_COUNT * 4;

    // a sparse file of a terabyte: refused from its length, before reading
    let path = temp("huge.safetensors");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 40).unwrap();
    drop(file);
    let (result, peak) = measure(|| Mlp::load(&path));
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("huge.safetensors")
            && error.contains(&format!("has {} bytes, more than the {limit}", 1u64 << 40)),
        "{error}"
    );
    assert!(
        peak < BOUND_CONSTANT,
        "refusing a huge file allocated {peak} bytes"
    );
    eprintln!("hostile_weights: a 1 TiB sparse file: refused with a peak of {peak} bytes: {error}");

    // one byte over the limit: refused; at the limit: read, then refused as
    // a header too long
    let path = temp("over.safetensors");
    std::fs::write(&path, vec![b' '; limit + 1]).unwrap();
    let error = Mlp::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("over.safetensors") && error.contains("more than"),
        "{error}"
    );
    let path = temp("at-limit.safetensors");
    std::fs::write(&path, vec![b' '; limit]).unwrap();
    let (result, peak) = measure(|| Mlp::load(&path));
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("at-limit.safetensors") && error.contains("header claims"),
        "{error}"
    );
    assert!(peak <= limit + BOUND_CONSTANT, "{peak}");
    eprintln!("hostile_weights: a file at the size limit ({limit} bytes): peak {peak} bytes");

    // empty
    let path = temp("empty.safetensors");
    std::fs::write(&path, b"").unwrap();
    let error = Mlp::load(&path).unwrap_err();
    assert!(matches!(error, Error::Format { .. }), "{error}");
    let error = error.to_string();
    assert!(
        error.contains("empty.safetensors") && error.contains("0 bytes"),
        "{error}"
    );

    // a directory
    let path = temp("a-directory.safetensors");
    std::fs::create_dir_all(&path).unwrap();
    let error = Mlp::load(&path).unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert!(
        error.to_string().contains("a-directory.safetensors"),
        "{error}"
    );

    // missing
    let path = temp("missing.safetensors");
    let error = Mlp::load(&path).unwrap_err();
    assert!(
        matches!(&error, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{error}"
    );
    assert!(error.to_string().contains("missing.safetensors"), "{error}");

    // a corrupted file on disk names itself
    let path = temp("corrupt.safetensors");
    let mut bytes = Mlp::from_seed(1).to_safetensors();
    bytes[9] = b'x';
    std::fs::write(&path, &bytes).unwrap();
    let error = Mlp::load(&path).unwrap_err().to_string();
    assert!(error.contains("corrupt.safetensors"), "{error}");

    // and a good one loads
    let path = temp("good.safetensors");
    let net = Mlp::from_seed(2);
    net.save(&path).unwrap();
    assert_eq!(Mlp::load(&path).unwrap(), net);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    eprintln!("hostile_weights: files on disk: 8 fixed cases");
}

// ---------------------------------------------------------------------------
// Regression: offsets summing near usize::MAX
// ---------------------------------------------------------------------------

/// U8 tensors of `2^61 - 1` bytes each, whose offsets end at `end`.
fn offsets_ending_at(end: u64) -> Vec<u8> {
    let size: u64 = (1 << 61) - 1;
    let mut header = String::from("{");
    let mut start: u64 = 0;
    let mut i = 0;
    while start < end {
        let stop = start + size.min(end - start);
        if i > 0 {
            header.push(',');
        }
        header.push_str(&entry(
            &format!("t{i}"),
            "U8",
            &format!("[{}]", stop - start),
            &format!("[{start},{stop}]"),
        ));
        start = stop;
        i += 1;
    }
    header.push('}');
    with_header(&header, &[0; 8])
}

#[test]
fn offsets_near_usize_max_are_refused_without_overflow() {
    // safetensors 0.8 computes `end of data + 8 + header length` unchecked:
    // with overflow checks on (debug builds) this panicked inside
    // `SafeTensors::read_metadata`, called from `File::parse`
    for end in [
        u64::MAX,
        u64::MAX - 7,
        u64::MAX - 100,
        (1 << 63) + 1,
        1 << 63,
    ] {
        let bytes = offsets_ending_at(end);
        let error = Mlp::from_safetensors(&bytes).unwrap_err();
        assert!(matches!(error, Error::Format { .. }), "{end}: {error}");
        assert!(error.to_string().contains("larger than"), "{end}: {error}");
    }
    // just below the refusal, the offsets pass and the length check fails
    let error = Mlp::from_safetensors(&offsets_ending_at(1 << 62))
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a valid safetensors file"), "{error}");

    // digits inside strings are not numbers: a valid file whose metadata
    // holds long digit runs (also behind escaped quotes) still loads
    let net = Mlp::from_seed(4);
    let good = net.to_safetensors();
    let n = header_len(&good);
    let json = std::str::from_utf8(&good[8..8 + n]).unwrap().trim_end();
    let digits = "9".repeat(40);
    let header = json.replacen(
        "\"format\":\"pt\"",
        &format!("\"format\":\"pt\",\"{digits}\":\"\\\"{digits}\\\\\",\"x\":\"{digits}\""),
        1,
    );
    assert_ne!(header, json, "the metadata holds \"format\":\"pt\"");
    let bytes = with_header(&header, &good[8 + n..]);
    assert_eq!(Mlp::from_safetensors(&bytes).unwrap(), net);
}
