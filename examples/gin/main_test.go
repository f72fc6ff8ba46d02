package main

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo/demotest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	demotest.Main(m)
}

// start serves the demo's router as run serves it.
func start(t *testing.T, m *core.Manager, tls bool) demotest.Target {
	return demotest.ServeHTTP(t, newRouter(m, demotest.Quiet()), tls)
}

func TestContract(t *testing.T) { demotest.Run(t, start) }

// The same contract with the sessions in Redis, standalone and Cluster,
// with the near cache off and on, and two apps on one Redis (CrossProcess).
func TestContractRedis(t *testing.T) { demotest.RunRedis(t, start) }

// The same contract with the sessions in PostgreSQL.
func TestContractPostgres(t *testing.T) { demotest.RunPostgres(t, start) }

func TestRun(t *testing.T) { demotest.RunCommand(t, run) }
