-- The request path of the platform's router: host → app → what to answer, the upstream to proxy to,
-- the certificate for an SNI name, and the per-app counters. State lives in two shared dicts written by
-- the controller through workflow_control.lua:
--   workflow_routes  "v:<app>" → the live version (negative: removed at that version); "a:<app>:<version>" →
--                    that version's route (JSON, never changed once written); "h:<host>" → app (exact names
--                    and "*.suffix" wildcards)
--   workflow_stats   "f:<ip:port>" requests in flight; "r:/s:/l:/t:<app>" requests, status classes,
--                    latency histogram and total time
local balancer = require "ngx.balancer"
local ssl = require "ngx.ssl"
local lrucache = require "resty.lrucache"
local cjson = require "cjson.safe"
local bit = require "bit"

local routes = ngx.shared.workflow_routes
local stats = ngx.shared.workflow_stats
local byte, floor, min = string.byte, math.floor, math.min

local _M = {}

-- Upper bounds (ms) of the latency histogram's buckets; the last one is open.
_M.buckets = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }

local MAINTENANCE_PAGE = "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
    .. "<h1>Down for maintenance</h1><p>This app is in maintenance mode. Please try again later.</p>"
    .. "</body></html>\n"
local NO_CONTAINERS = "No containers of this app are running.\n"

local https_suffix = ""
local decoded = {}                  -- app → { version, route }: this worker's decoded copy of the live route
local parsed_certs = lrucache.new(512)  -- content hash → { chain, key } (parsed once per worker)
local turn = {}                     -- app → round-robin position (per worker)

function _M.configure(options)
    local port = options.https_port
    https_suffix = (port and port ~= 443) and (":" .. port) or ""
end

-- The app a host name belongs to, and the name that matched: exact first, then the longest wildcard.
local function find_app(host)
    if not host then return nil end
    local app = routes:get("h:" .. host)
    if app then return app, host end
    local rest = host
    while true do
        local dot = rest:find(".", 1, true)
        if not dot then return nil end
        rest = rest:sub(dot + 1)
        local name = "*." .. rest
        app = routes:get("h:" .. name)
        if app then return app, name end
    end
end

local function prepare(route)
    local hostset, nets = {}, {}
    for _, host in ipairs(route.hosts) do hostset[host] = true end
    for _, net in ipairs(route.whitelist) do nets[#nets + 1] = { string.char(unpack(net[1])), net[2] } end
    route.hostset, route.nets = hostset, nets
    return route
end

-- The live route of an app and its version (nil when none); decoded once per version and worker.
local function current(app)
    for _ = 1, 3 do
        local version = routes:get("v:" .. app)
        if not version or version < 0 then
            decoded[app], turn[app] = nil, nil  -- removed: nothing of it stays in this worker
            return nil
        end
        local hit = decoded[app]
        if hit and hit.version == version then return hit.route, version end
        local text = routes:get("a:" .. app .. ":" .. version)
        if text then
            local route = cjson.decode(text)
            if not route then return nil end
            decoded[app] = { version = version, route = prepare(route) }
            return decoded[app].route, version
        end
        -- written over between our two reads, or removed (a version without a route): read again
    end
    return nil
end
_M.find_app, _M.current = find_app, current

-- Whether a binary address (4 or 16 bytes) is in one of the networks ({ bytes, prefix length }).
local function allowed(networks, addr)
    if #addr == 16 and addr:sub(1, 12) == "\0\0\0\0\0\0\0\0\0\0\255\255" then
        addr = addr:sub(13)  -- an IPv4 client on an IPv6 socket
    end
    for _, net in ipairs(networks) do
        local bytes, bits = net[1], net[2]
        if #bytes == #addr then
            local whole = floor(bits / 8)
            local ok = whole == 0 or addr:sub(1, whole) == bytes:sub(1, whole)
            local rest = bits % 8
            if ok and rest > 0 then
                local mask = bit.band(bit.lshift(0xff, 8 - rest), 0xff)
                ok = bit.band(byte(addr, whole + 1), mask) == bit.band(byte(bytes, whole + 1), mask)
            end
            if ok then return true end
        end
    end
    return false
end

local function answer(status, content_type, body)
    ngx.status = status
    ngx.header["Content-Type"] = content_type
    ngx.header["Content-Length"] = #body
    ngx.print(body)
    return ngx.exit(ngx.HTTP_OK)
end

-- Counts a request in flight to an upstream until the log phase (or a retry elsewhere) takes it back.
local function pick(ctx, route)
    local upstreams = route.upstreams
    local n = #upstreams
    local i = ((turn[ctx.app] or 0) % n) + 1
    turn[ctx.app] = i
    ctx.index, ctx.current = i, upstreams[i]
    stats:incr("f:" .. upstreams[i][3], 1, 0)
end

local function release(ctx)
    if ctx.current then
        stats:incr("f:" .. ctx.current[3], -1, 0)
        ctx.current = nil
    end
end

-- access phase: `plain` is true on the http port (where https enforcement redirects).
function _M.access(plain)
    local host = ngx.var.host
    local app, name = find_app(host)
    if not app then return ngx.exit(ngx.HTTP_NOT_FOUND) end
    local ctx = { app = app }
    ngx.ctx.workflow = ctx
    for _ = 1, 3 do
        local route, version = current(app)
        if not route or not route.hostset[name] then return ngx.exit(ngx.HTTP_NOT_FOUND) end
        if route.nets[1] and not allowed(route.nets, ngx.var.binary_remote_addr) then
            return ngx.exit(ngx.HTTP_FORBIDDEN)
        end
        if plain and route.https and ngx.var.workflow_forwarded_proto == "http" then
            return ngx.redirect("https://" .. host .. https_suffix .. ngx.var.request_uri, 301)
        end
        if route.maintenance then return answer(503, "text/html", MAINTENANCE_PAGE) end
        if not route.upstreams[1] then return answer(503, "text/plain", NO_CONTAINERS) end
        pick(ctx, route)
        -- The controller writes the new version, then reads the counts in flight; we count, then check the
        -- version: either it sees our count or we see its version (and pick among the new upstreams).
        if routes:get("v:" .. app) == version then
            ctx.route = route
            return
        end
        release(ctx)
    end
    return ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE)
end

-- balancer phase: the upstream picked in access; on a retry (connect error or timeout) the next one not tried.
function _M.balance()
    local ctx = ngx.ctx.workflow
    local upstreams = ctx.route.upstreams
    if ctx.tried then
        release(ctx)
        for step = 1, #upstreams - 1 do
            local i = ((ctx.index + step - 1) % #upstreams) + 1
            if not ctx.tried[i] then
                ctx.index, ctx.current = i, upstreams[i]
                stats:incr("f:" .. upstreams[i][3], 1, 0)
                break
            end
        end
        if not ctx.current then return ngx.exit(ngx.ERROR) end
    else
        ctx.tried = {}
        if #upstreams > 1 then balancer.set_more_tries(min(#upstreams, 3) - 1) end
    end
    ctx.tried[ctx.index] = true
    local ok, err = balancer.set_current_peer(ctx.current[1], ctx.current[2])
    if not ok then
        ngx.log(ngx.ERR, "upstream ", ctx.current[3], ": ", err)
        return ngx.exit(ngx.ERROR)
    end
end

-- log phase: the request is done; give back its in-flight count and count it for its app.
function _M.log()
    local ctx = ngx.ctx.workflow
    if not ctx then return end
    release(ctx)
    local app = ctx.app
    stats:incr("r:" .. app, 1, 0)
    stats:incr("s:" .. app .. ":" .. floor(ngx.status / 100), 1, 0)
    local ms = (tonumber(ngx.var.request_time) or 0) * 1000
    stats:incr("t:" .. app, ms, 0)
    local bucket = #_M.buckets + 1
    for i, bound in ipairs(_M.buckets) do
        if ms <= bound then bucket = i break end
    end
    stats:incr("l:" .. app .. ":" .. bucket, 1, 0)
end

-- ssl_certificate phase: the certificate attached to the name the client asked for, else no handshake.
function _M.certificate()
    local name = ssl.server_name()
    if not name then return ngx.exit(ngx.ERROR) end
    local app, matched = find_app(name:lower())
    local route = app and current(app)
    local cert = route and route.hostset[matched] and route.certs[matched]
    if not cert then return ngx.exit(ngx.ERROR) end
    local pair = parsed_certs:get(cert.hash)
    if not pair then
        local chain, err = ssl.parse_pem_cert(cert.cert)
        local key, key_err = ssl.parse_pem_priv_key(cert.key)
        if not chain or not key then
            ngx.log(ngx.ERR, "certificate of ", matched, ": ", err or key_err)
            return ngx.exit(ngx.ERROR)
        end
        pair = { chain, key }
        parsed_certs:set(cert.hash, pair)
    end
    local ok, err = ssl.clear_certs()
    if ok then ok, err = ssl.set_cert(pair[1]) end
    if ok then ok, err = ssl.set_priv_key(pair[2]) end
    if not ok then
        ngx.log(ngx.ERR, "certificate of ", matched, ": ", err)
        return ngx.exit(ngx.ERROR)
    end
end

return _M
