//go:build wasm

package runtime

import "unsafe"

// cabiRealloc is the module's `cabi_realloc` export, which the component-model host (and
// wit-component's glue) calls to allocate guest memory for the values it passes in: the
// arguments of exports and the results of imports. See [Realloc].
//
//go:wasmexport cabi_realloc
func cabiRealloc(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	return Realloc(old, oldSize, align, newSize)
}
