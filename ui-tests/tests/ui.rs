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
