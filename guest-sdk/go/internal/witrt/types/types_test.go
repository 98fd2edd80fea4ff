package types

import "testing"

func TestOption(t *testing.T) {
	var zero Option[string]
	if zero.Tag() != OptionNone || zero.IsSome() || !zero.IsNone() || zero.SomeOr("x") != "x" {
		t.Fatalf("zero Option is not none: %+v", zero)
	}
	if n := None[int](); n.Tag() != OptionNone || n.SomeOr(7) != 7 {
		t.Fatalf("None: %+v", n)
	}
	s := Some("v")
	if s.Tag() != OptionSome || !s.IsSome() || s.IsNone() || s.Some() != "v" || s.SomeOr("x") != "v" {
		t.Fatalf("Some: %+v", s)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Some() on none did not panic")
		}
	}()
	None[string]().Some()
}

func TestResult(t *testing.T) {
	ok := Ok[[]byte, error]([]byte("data"))
	if ok.Tag() != ResultOk || !ok.IsOk() || ok.IsErr() || string(ok.Ok()) != "data" {
		t.Fatalf("Ok: %+v", ok)
	}
	type failure struct{ message string }
	bad := Err[int](failure{"boom"})
	if bad.Tag() != ResultErr || bad.IsOk() || !bad.IsErr() || bad.Err().message != "boom" {
		t.Fatalf("Err: %+v", bad)
	}
	for name, f := range map[string]func(){
		"Ok() on err": func() { bad.Ok() },
		"Err() on ok": func() { ok.Err() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestTuple2(t *testing.T) {
	pair := Tuple2[string, int]{F0: "a", F1: 1}
	if pair.F0 != "a" || pair.F1 != 1 {
		t.Fatalf("Tuple2: %+v", pair)
	}
}
