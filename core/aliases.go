package core

import "github.com/sessionkit/sessionkit/core/store"

// The store contract lives in the leaf package core/store, so that memstore
// (core's default) can implement it without importing core. These aliases
// let applications and store authors spell it core.Store.
type (
	// Store keeps session records; see package store for the contract.
	Store = store.Store
	// Record is a session as a store holds it.
	Record = store.Record
	// Meta is a session's metadata.
	Meta = store.Meta
)
