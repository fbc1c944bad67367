-- The control endpoint: a unix socket only the controller's user can reach, and, for a router instance driven
-- from another container (multi-host), a TCP port where every call needs `Authorization: Bearer <token>` (the
-- token read from a file at start, e.g. a Docker secret; a missing or wrong one is a 401 and changes nothing).
-- The controller writes apps' routes and reads the counters. Each write replaces one app's whole route and
-- carries a version; a write older than the live version is refused, so a reordered or repeated write cannot
-- bring back a stale route.
--   PUT  /apps      [{"app", "version", "route": "<route JSON>" | null}, ...] → {"<app>": "ok" | reason}
--   GET  /apps      → {"<app>": "<route JSON>"} (what is live)
--   POST /inflight  ["ip:port", ...] → {"ip:port": count} (summed over the workers' reports, made after the call)
--   GET  /stats     → {"<app>": {"requests", "status": {"2": n, ...}, "latency": {"<bucket>": n}, "time_ms"}}
--                     (read once every worker has flushed its counters)
--   GET  /ping      → "ok"
--   GET  /boot      → the id of this shared memory (set once when it is created): a new id means a new
--                     master with no routes, to which the controller pushes the whole table again
--   PUT  /ready     → "ok": the controller has written the whole table; from now on an unknown host is a
--                     404 (before: 503 with Retry-After). Kept while this shared memory lives.
local bit = require "bit"
local ssl = require "ngx.ssl"
local cjson = require "cjson.safe"
local router = require "workflow_router"

local routes = ngx.shared.workflow_routes
local stats = ngx.shared.workflow_stats

local _M = {}

local REPORT_TIMEOUT = 1  -- s: a worker's timer reports within one TICK unless it is stuck

local token_digest = nil  -- sha1 of the TCP endpoint's token (configure); nil: no TCP endpoint

-- At start (init_by_lua, in the master: before it drops privileges, so it may read a root-only secret).
function _M.configure(opts)
    if opts.token_file then
        local f = assert(io.open(opts.token_file, "rb"))
        local token = f:read("*a"):gsub("%s+$", "")
        f:close()
        assert(#token >= 16, "the control token in " .. opts.token_file .. " is shorter than 16 characters")
        token_digest = ngx.sha1_bin(token)
    end
    -- Kept while this shared memory lives (a reload keeps it; a new master starts empty and gets a new id).
    routes:add("boot", string.format("%d-%d-%d", ngx.now() * 1000, ngx.worker.pid(), math.random(1, 1e9)))
end

-- Constant time: the digests have one length and every byte is compared.
local function authorized()
    local given = ngx.var.http_authorization
    if not token_digest or type(given) ~= "string" then return false end
    local token = given:match("^Bearer (.+)$")
    if not token then return false end
    local a, b = ngx.sha1_bin(token), token_digest
    local diff = 0
    for i = 1, #b do diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i))) end
    return diff == 0
end

local function reply(status, value)
    local body = cjson.encode(value)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Content-Length"] = #body
    ngx.print(body)
    return ngx.exit(ngx.HTTP_OK)
end

-- Why the certificates of a route cannot be served, or nil.
local function refusal(route)
    for host, cert in pairs(route.certs or {}) do
        local chain, err = ssl.parse_pem_cert(cert.cert)
        if not chain then return "cannot load certificate of " .. host .. ": " .. (err or "?") end
        local key, key_err = ssl.parse_pem_priv_key(cert.key)
        if not key then return "cannot load certificate key of " .. host .. ": " .. (key_err or "?") end
    end
    return nil
end

-- After a change: every worker's next request drops its cached answers.
local function new_generation()
    local gen, err = routes:incr("g", 1, 0)
    if not gen then
        ngx.log(ngx.ERR, "routes' generation: ", err)
        gen = router.generation() + 0.5  -- still a new value: no worker keeps an answer cached before this write
    end
    router.publish(gen)
end

local function write(item)
    local app, version, route = item.app, tonumber(item.version), item.route
    if type(app) ~= "string" or not version then return "malformed write" end
    local live = routes:get("v:" .. app)
    if live and math.abs(live) >= version then return "stale: version " .. math.abs(live) .. " is live" end
    if live and live < 0 then live = nil end  -- removed: no route of it to replace
    local old_hosts = {}
    local old_text = live and routes:get("a:" .. app .. ":" .. live)
    if old_text then
        local old = cjson.decode(old_text)
        for _, host in ipairs(old and old.hosts or {}) do old_hosts[host] = true end
    end
    local new_hosts = nil
    if type(route) == "string" then  -- the route's JSON text, stored as sent
        local text = route
        route = cjson.decode(text)
        if type(route) ~= "table" or route.version ~= version then return "malformed route" end
        local why = refusal(route)
        if why then return why end
        local ok, err = routes:safe_set("a:" .. app .. ":" .. version, text)
        if not ok then return "router memory: " .. err end
        new_hosts = {}
        for _, host in ipairs(route.hosts) do
            new_hosts[host] = true
            ok, err = routes:safe_set("h:" .. host, app)
            if not ok then return "router memory: " .. err end
        end
    end
    -- The switch: from here on requests read this version (a removal: the version, negated).
    routes:set("v:" .. app, new_hosts == nil and -version or version)
    for host in pairs(old_hosts) do
        if not (new_hosts and new_hosts[host]) and routes:get("h:" .. host) == app then
            routes:delete("h:" .. host)
        end
    end
    if live then routes:delete("a:" .. app .. ":" .. live) end
    new_generation()  -- last: workers' cached answers are dropped once the write is whole
    return "ok"
end

local function live_routes()
    local out = {}
    for _, key in ipairs(routes:get_keys(0)) do
        local app = key:match("^v:(.+)$")
        if app then
            local text = routes:get("a:" .. app .. ":" .. (routes:get(key) or 0))
            if text then out[app] = text end
        end
    end
    return out
end

local function app_stats()
    local out = {}
    local function entry(app)
        local e = out[app]
        if not e then
            e = { requests = 0, status = {}, latency = {}, time_ms = 0 }
            out[app] = e
        end
        return e
    end
    for _, key in ipairs(stats:get_keys(0)) do
        local kind, rest = key:match("^(%a):(.+)$")
        local value = stats:get(key)
        if kind == "r" then entry(rest).requests = value
        elseif kind == "t" then entry(rest).time_ms = value
        elseif kind == "s" or kind == "l" then
            local app, slot = rest:match("^(.+):(%d+)$")
            if app then entry(app)[kind == "s" and "status" or "latency"][slot] = value end
        end
    end
    return out
end

-- `remote`: the call came on the TCP endpoint, where it must carry the token.
function _M.handle(remote)
    if remote and not authorized() then
        ngx.header["WWW-Authenticate"] = "Bearer"
        return reply(401, "a valid control token is required")
    end
    local method, path = ngx.req.get_method(), ngx.var.uri
    if path == "/ping" then return reply(200, "ok") end
    if path == "/boot" then return reply(200, routes:get("boot")) end
    if path == "/apps" and method == "PUT" then
        ngx.req.read_body()
        local items = cjson.decode(ngx.req.get_body_data() or "")
        if type(items) ~= "table" then return reply(400, "expected a JSON list of writes") end
        local results = {}
        for _, item in ipairs(items) do results[item.app or "?"] = write(item) end
        return reply(200, results)
    end
    if path == "/apps" and method == "GET" then return reply(200, live_routes()) end
    if path == "/ready" and method == "PUT" then
        local ok, err = routes:safe_set("ready", true)
        if not ok then return reply(503, "router memory: " .. err) end
        new_generation()
        return reply(200, "ok")
    end
    if path == "/inflight" and method == "POST" then
        ngx.req.read_body()
        local wanted = cjson.decode(ngx.req.get_body_data() or "")
        if type(wanted) ~= "table" then return reply(400, "expected a JSON list of ip:port") end
        local reports, err = router.reports(REPORT_TIMEOUT)
        if not reports then return reply(503, err) end
        local out = {}
        for _, u in ipairs(wanted) do
            local n = 0
            for _, report in ipairs(reports) do n = n + (tonumber(report.inflight[u]) or 0) end
            out[u] = n
        end
        return reply(200, out)
    end
    if path == "/stats" and method == "GET" then
        local reports, err = router.reports(REPORT_TIMEOUT)  -- every worker's counters flushed
        if not reports then return reply(503, err) end
        return reply(200, { buckets = router.buckets, apps = app_stats() })
    end
    return reply(404, "unknown control call")
end

return _M
