package redisstore_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// A production Redis: a password, an ACL user and TLS in one URL (such as
// rediss://app:PASSWORD@redis.internal:6380/0), checked at start-up so
// that a wrong password stops the application with the cause.
func ExampleNewClientURL() {
	client, err := redisstore.NewClientURL(os.Getenv("REDIS_URL"))
	if err != nil {
		log.Fatal(err) // a malformed URL; no error shows the password
	}
	defer client.Close() // after the manager's last use

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := redisstore.Check(ctx, client); err != nil {
		log.Fatal(err) // authentication required, wrong password, TLS required, ...
	}
	st, err := redisstore.New(client, redisstore.Options{Prefix: "session:"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := core.New(core.Config{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
}

// What a URL cannot say goes in a configure function: a private CA and a
// client certificate for rediss://.
func ExampleNewClientURL_tls() {
	privateCA := x509.NewCertPool() // your CA's certificate, AppendCertsFromPEM
	var clientCert tls.Certificate  // tls.LoadX509KeyPair
	client, err := redisstore.NewClientURL("rediss://app:PASSWORD@redis.internal:6380",
		func(o *redis.UniversalOptions) {
			o.TLSConfig.RootCAs = privateCA
			o.TLSConfig.Certificates = []tls.Certificate{clientCert}
		})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}

// errors.Is tells the causes apart.
func ExampleCheck() {
	client, err := redisstore.NewClientURL("redis://127.0.0.1:6379")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	switch err := redisstore.Check(context.Background(), client); {
	case err == nil:
	case errors.Is(err, redisstore.ErrAuthRequired), errors.Is(err, redisstore.ErrWrongPassword):
		log.Fatalf("set REDIS_URL with the password: %v", err)
	default:
		log.Fatal(err)
	}
}
