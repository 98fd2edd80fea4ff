//go:build wasm

package runtime

import "unsafe"

// offByDefault: in a component the collector is off outside exports (see [CollectorOn]).
const offByDefault = true

func init() {
	collectorOff()
}

// cabiRealloc is the module's `cabi_realloc` export, which the component-model host calls
// to allocate guest memory for the values it passes in: the arguments of exports and the
// results of imports. See [Realloc].
//
//go:wasmexport cabi_realloc
func cabiRealloc(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	return Realloc(old, oldSize, align, newSize)
}

// cabiReallocAdapter is the module's `cabi_realloc_adapter` export, which wit-component
// gives the WASI preview1 adapter in place of cabi_realloc. See [AdapterRealloc].
//
//go:wasmexport cabi_realloc_adapter
func cabiReallocAdapter(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	return AdapterRealloc(old, oldSize, align, newSize)
}
