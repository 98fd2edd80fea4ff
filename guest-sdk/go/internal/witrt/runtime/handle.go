// Resource handles of the canonical ABI, as the generated bindings hold them (Handle).

package runtime

// Handle is the Go side of a resource handle that a binding value (say an *InputStream of
// wasi:io/streams) holds: the handle's index in the component's handle table while the
// value owns or borrows it, 0 once it has been moved into a call (an `own<T>` argument)
// or dropped. The canonical ABI never hands out index 0, so 0 means "no handle".
//
// The bindings make one with [MakeHandle] when they lift a handle, read it with
// [Handle.Use] to pass a borrow, move it out with [Handle.Take] to pass ownership, and
// empty it with [Handle.TakeOrNil] when they drop the resource (explicitly, or from the
// cleanup they attach to an owned value), so a handle is dropped at most once.
type Handle struct {
	value int32
}

// MakeHandle returns a Handle holding value.
func MakeHandle(value int32) *Handle {
	return &Handle{value: value}
}

// Use returns the handle for a borrow, leaving it in place. It panics if the handle was
// moved or dropped: passing index 0 on would trap the whole instance instead.
func (h *Handle) Use() int32 {
	if h == nil || h.value == 0 {
		panic("witrt/runtime: use of a resource that was dropped or moved")
	}
	return h.value
}

// Take returns the handle and empties h, for a call that takes ownership of the resource.
// It panics if the handle was already moved or dropped.
func (h *Handle) Take() int32 {
	value := h.Use()
	h.value = 0
	return value
}

// TakeOrNil returns the handle and empties h, or returns 0 if h holds none.
func (h *Handle) TakeOrNil() int32 {
	if h == nil {
		return 0
	}
	value := h.value
	h.value = 0
	return value
}

// Set makes h hold value.
func (h *Handle) Set(value int32) {
	h.value = value
}
