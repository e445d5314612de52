//! Compile errors are a user interface: each case is one mistake, with the
//! message users read in its `.stderr`. Refresh with `TRYBUILD=overwrite`
//! and read every diff before committing it.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}

#[test]
fn compile_passes() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
}

/// `#[weights = "..."]`, with this package's feature `embed` (on by
/// default): the cases read `fixtures/`, which `tests/fixtures.rs` writes.
#[cfg(feature = "embed")]
#[test]
fn baked_weights() {
    let t = trybuild::TestCases::new();
    t.compile_fail("weights/fail/*.rs");
    t.pass("weights/pass/*.rs");
}

/// `#[weights = "..."]` without the feature: one error that says how to
/// turn it on. Run with
/// `cargo test -p staticnet-ui-tests --no-default-features --test ui`.
#[cfg(not(feature = "embed"))]
#[test]
fn baked_weights_without_the_feature() {
    let t = trybuild::TestCases::new();
    t.compile_fail("weights/no-embed/*.rs");
}
