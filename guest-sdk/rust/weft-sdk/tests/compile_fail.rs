//! Wrong signatures are compile errors pointing at the mistake (see `tests/ui/*.stderr`).
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p weft-sdk --test compile_fail`.

#[test]
fn wrong_signatures_are_spanned_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
