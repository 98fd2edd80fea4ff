module example.invalid/weft/tests/guests/conformance-go

go 1.25

require example.invalid/weft/guest-sdk/go v0.0.0

replace example.invalid/weft/guest-sdk/go => ../../../guest-sdk/go
