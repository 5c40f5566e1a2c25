package sample

import (
	"fmt"
	str "strings"
)

// Add adds two numbers.
func Add(a, b int) int {
	return a + b
}

// Server serves requests.
type Server struct {
	addr string
}

// Run starts the server.
func (s *Server) Run(ctx context.Context) error {
	return nil
}

type Handler interface {
	// Serve handles one request.
	Serve(req *Request) error
}

// Timeout is the default timeout.
const Timeout = 30

type Port = int

const (
	// Retries is how often a request is tried.
	Retries = 3
)
