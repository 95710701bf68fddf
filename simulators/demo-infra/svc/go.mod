module github.com/acme/svc

go 1.21

require github.com/gin-gonic/gin v1.9.0

require (
	github.com/go-playground/validator/v10 v10.14.0 // indirect
	golang.org/x/net v0.10.0 // indirect
	golang.org/x/crypto v0.9.0
)
