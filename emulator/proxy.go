package emulator

import "net/http"

// What stands between a client and a real portal answers in HTML, never in the portal's
// JSON envelope: these pages are what nginx and a typical single-sign-on gateway send.

const badGatewayPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

const gatewayTimeoutPage = `<html>
<head><title>504 Gateway Time-out</title></head>
<body>
<center><h1>504 Gateway Time-out</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

const loginPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<form method="post" action="/sso/login">
<h1>Your session has expired</h1>
<label>E-mail <input type="email" name="username"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`

// writeHTML answers with an HTML page, as a proxy or gateway in front of the portal does.
func (s *Server) writeHTML(w http.ResponseWriter, status int, page string) {
	s.mu.Lock()
	s.stats.ByStatus[status]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(page))
}
