//go:build !wasm

package runtime

// offByDefault: outside WebAssembly (tests) there is no host calling cabi_realloc, and
// the collector stays as Go sets it.
const offByDefault = false
