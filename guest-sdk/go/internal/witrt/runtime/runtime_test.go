package runtime

import (
	goruntime "runtime"
	"testing"
	"unsafe"
)

func TestAllocateAlignsAndZeroes(t *testing.T) {
	var pinner goruntime.Pinner
	defer pinner.Unpin()
	for _, align := range []uintptr{1, 2, 4, 8, 16, 64} {
		for _, size := range []uintptr{0, 1, 13, 64, 100000} {
			p := Allocate(&pinner, size, align)
			if uintptr(p)%align != 0 {
				t.Fatalf("Allocate(%d, %d) = %p: misaligned", size, align, p)
			}
			for i, b := range unsafe.Slice((*byte)(p), size) {
				if b != 0 {
					t.Fatalf("Allocate(%d, %d): byte %d is %d", size, align, i, b)
				}
			}
		}
	}
}

func TestReallocCopies(t *testing.T) {
	defer Unpin()
	old := Realloc(nil, 0, 4, 8)
	copy(unsafe.Slice((*byte)(old), 8), "abcdefgh")
	grown := Realloc(old, 8, 4, 16)
	if got := string(unsafe.Slice((*byte)(grown), 8)); got != "abcdefgh" {
		t.Fatalf("grown block holds %q", got)
	}
	shrunk := Realloc(grown, 16, 4, 3)
	if got := string(unsafe.Slice((*byte)(shrunk), 3)); got != "abc" {
		t.Fatalf("shrunk block holds %q", got)
	}
}

func TestArena(t *testing.T) {
	saved := arenaUsed
	defer func() { arenaUsed = saved }()
	arenaUsed = 0
	first := arenaAllocate(1<<16, 8)
	second := arenaAllocate(3, 16)
	if first == nil || second == nil || uintptr(second)%16 != 0 || uintptr(second) < uintptr(first)+1<<16 {
		t.Fatalf("arena blocks %p, %p", first, second)
	}
	if arenaAllocate(unsafe.Sizeof(arena), 8) != nil {
		t.Fatal("an allocation larger than what is left of the arena succeeded")
	}
	// Once the arena is full, the adapter's blocks come from the heap.
	block := AdapterRealloc(nil, 0, 8, unsafe.Sizeof(arena))
	if block == nil || uintptr(block)%8 != 0 || len(adapterBlocks) == 0 {
		t.Fatalf("AdapterRealloc past the arena: %p", block)
	}
}

func TestHandle(t *testing.T) {
	h := MakeHandle(7)
	if h.Use() != 7 || h.Use() != 7 {
		t.Fatal("Use does not leave the handle in place")
	}
	if h.Take() != 7 || h.TakeOrNil() != 0 {
		t.Fatal("Take does not empty the handle")
	}
	h.Set(9)
	if h.TakeOrNil() != 9 || h.TakeOrNil() != 0 {
		t.Fatal("TakeOrNil returns the handle once")
	}
	var none *Handle
	if none.TakeOrNil() != 0 {
		t.Fatal("a nil handle holds a value")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Use of a moved handle did not panic")
		}
	}()
	h.Use()
}
