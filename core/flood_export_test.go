package core

import "github.com/sessionkit/sessionkit/stores/memstore"

// OwnStore is the in-memory store New built because Config.Store was nil
// (nil otherwise), so that tests can check the default store's bounds.
func (m *Manager) OwnStore() *memstore.Store { return m.ownStore }
