package apikeystest

// Waiters reports how many waiters of Await and of GET /_fake/await are still registered: a
// test sees through it that an admin await that ends forgets its waiter.
func Waiters(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}
