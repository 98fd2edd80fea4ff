//! The bindings of the `weft:plugin` world, generated from the repository's `wit/` by
//! wit-bindgen. Only the SDK names them; users see the types of the other modules.
#![allow(missing_docs, unsafe_code, clippy::all, clippy::pedantic)]

wit_bindgen::generate!({
    path: "../../../wit",
    world: "weft:plugin/code-location@0.10.0",
    // The WASI packages the world imports (`wasi:http`) get bindings of their own here;
    // the SDK's `http` client uses wstd's (`wasip2`), so these stay unused.
    generate_all,
    pub_export_macro: true,
    export_macro_name: "__weft_export",
    default_bindings_module: "::weft_sdk::__private::bindings",
    runtime_path: "::weft_sdk::__private::wit_bindgen::rt",
});
