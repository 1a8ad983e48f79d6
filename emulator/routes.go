package emulator

import (
	"strconv"
	"strings"
	"sync"
)

// route is one endpoint: a method and a path under /api/2.0/ whose "{name}" segments match an
// integer and become the route parameter name.
type route struct {
	method string
	path   string
	name   string // path as shown in Stats, with {id} for each integer segment
	public bool   // needs no authentication and takes no faults
	drops  bool   // subject to DropRate: a create or an update
	handle func(*Server, *call) reply
}

var routes = []route{
	{method: "POST", path: "authentication", public: true, handle: (*Server).login},
	{method: "POST", path: "crm/opportunity", drops: true, handle: (*Server).createDeal},
	{method: "PUT", path: "crm/opportunity", handle: (*Server).deleteDeals},
	{method: "GET", path: "crm/opportunity/filter", handle: (*Server).filterDeals},
	{method: "GET", path: "crm/opportunity/stage", handle: (*Server).listStages},
	{method: "GET", path: "crm/opportunity/customfield/definitions", handle: (*Server).listCustomFields},
	{method: "POST", path: "crm/opportunity/customfield", handle: (*Server).createCustomField},
	{method: "GET", path: "crm/opportunity/tag", handle: (*Server).listTags},
	{method: "POST", path: "crm/opportunity/taglist", handle: (*Server).tagDeals},
	{method: "GET", path: "crm/opportunity/tag/{opportunityid}", handle: (*Server).dealTags},
	{method: "GET", path: "crm/opportunity/{opportunityid}", handle: (*Server).getDeal},
	{method: "PUT", path: "crm/opportunity/{opportunityid}", drops: true, handle: (*Server).updateDeal},
	{method: "DELETE", path: "crm/opportunity/{opportunityid}", handle: (*Server).deleteDeal},
	{method: "POST", path: "crm/opportunity/{opportunityid}/tag", handle: (*Server).tagDeal},
	{method: "DELETE", path: "crm/opportunity/{opportunityid}/tag", handle: (*Server).untagDeal},
	{method: "POST", path: "crm/opportunity/{opportunityid}/customfield/{fieldid}", handle: (*Server).setCustomFieldValue},
	{method: "PUT", path: "crm/opportunity/{opportunityid}/creationdate", handle: (*Server).setCreationDate},
	{method: "PUT", path: "crm/opportunity/{opportunityid}/lastmodifeddate", handle: (*Server).setLastModifiedDate},
	{method: "GET", path: "crm/settings/currency", handle: (*Server).listCurrencies},
	{method: "GET", path: "crm/contact/filter", handle: (*Server).filterContacts},
	{method: "GET", path: "crm/contact/bycontactinfo", handle: (*Server).contactsByInfo},
	{method: "GET", path: "crm/contact/{contactid}", handle: (*Server).getContact},
	{method: "GET", path: "people", handle: (*Server).listPeople},
	{method: "GET", path: "people/email", handle: (*Server).personByEmail},
	{method: "GET", path: "people/filter", handle: (*Server).filterPeople},
}

// routesNamed runs nameRoutes on the first request: an init would run in every command
// of the program, not only in the emulator's.
var routesNamed sync.Once

// nameRoutes sets each route's name: its path with {id} for each parameter.
func nameRoutes() {
	for i := range routes {
		segs := strings.Split(routes[i].path, "/")
		for j, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[j] = "{id}"
			}
		}
		routes[i].name = strings.Join(segs, "/")
	}
}

// apiPath is a request path as Stats.ByPath shows it: without /api/2.0/ and .json, lower case.
func apiPath(urlPath string) string {
	p := strings.ToLower(strings.Trim(urlPath, "/"))
	p = strings.TrimPrefix(p, "api/2.0/")
	return strings.TrimSuffix(p, ".json")
}

// match finds the route of a request path: /api/2.0/PATH with an optional ".json" suffix,
// segments compared in any case. It returns the route values by lower-case name.
func match(method, urlPath string) (*route, map[string]string) {
	const base = "/api/2.0/"
	if len(urlPath) < len(base) || !strings.EqualFold(urlPath[:len(base)], base) {
		return nil, nil
	}
	p := strings.Trim(urlPath[len(base):], "/")
	if len(p) > 5 && strings.EqualFold(p[len(p)-5:], ".json") {
		p = p[:len(p)-5]
	}
	segs := strings.Split(p, "/")
	routesNamed.Do(nameRoutes)
	for i := range routes {
		rt := &routes[i]
		if rt.method != method {
			continue
		}
		want := strings.Split(rt.path, "/")
		if len(want) != len(segs) {
			continue
		}
		vals := map[string]string{}
		ok := true
		for j, w := range want {
			if strings.HasPrefix(w, "{") {
				if _, err := strconv.ParseInt(segs[j], 10, 32); err != nil || segs[j] == "" || segs[j][0] == '-' || segs[j][0] == '+' {
					ok = false
					break
				}
				vals[strings.Trim(w, "{}")] = segs[j]
				continue
			}
			if !strings.EqualFold(w, segs[j]) {
				ok = false
				break
			}
		}
		if ok {
			return rt, vals
		}
	}
	return nil, nil
}
