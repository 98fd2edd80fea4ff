module example.invalid/weft/guest-sdk/go

go 1.25
