package main

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo/demotest"
	"github.com/sessionkit/sessionkit/internal/redistest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	redistest.Main(m)
}

// start serves the demo's router as run serves it.
func start(t *testing.T, m *core.Manager, tls bool) demotest.Target {
	return demotest.ServeHTTP(t, newRouter(m, demotest.Quiet()), tls)
}

func TestContract(t *testing.T) { demotest.Run(t, start) }

// The same contract with the sessions in Redis, standalone and Cluster.
func TestContractRedis(t *testing.T) { demotest.RunRedis(t, start) }

func TestRun(t *testing.T) { demotest.RunCommand(t, run) }
