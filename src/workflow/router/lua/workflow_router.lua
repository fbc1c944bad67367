-- The request path of the platform's router: host → app → what to answer, the upstream to proxy to,
-- the certificate for an SNI name, and the per-app counters. State lives in two shared dicts written by
-- the controller through workflow_control.lua:
--   workflow_routes  "v:<app>" → the live version (negative: removed at that version); "a:<app>:<version>" →
--                    that version's route (JSON, never changed once written); "h:<host>" → app (exact names
--                    and "*.suffix" wildcards); "g" → the generation, bumped after every write and published
--                    to the workers in a word of shared memory (`generation`); "ready" → set once the
--                    controller has written the whole table (until then an unknown host is "not ready", 503,
--                    not a 404 a client or a cache could take for an answer)
--   workflow_stats   "r:/s:/l:/t:<app>" requests, status classes, latency histogram and total time;
--                    "seq" → the last report asked for; "w:<worker id>" → that worker's report (JSON: the
--                    seq it answers and its requests in flight per "ip:port")
-- Every shared-dict operation takes the zone's lock and moves the key in the zone's LRU list (a write to memory
-- every worker shares), so a request does none: it reads the published generation and, while it is unchanged,
-- finds its host's answer in this worker's cache. The request path is measured (bench/router.py,
-- bench/routercost.py, RESULTS.md): Lua runs twice a request, in the balancer (routing: every Lua phase has a
-- fixed cost of microseconds) and in the log phase (counting); a request allocates nothing (no ngx.ctx: the
-- balancer leaves the log phase its upstream entry in a table keyed by the request); retries keep no set of
-- tried peers (they go round from the one that failed), and the latency bucket is a plain loop. Counters and
-- requests in flight are kept per worker; the counters are added to the shared dict every FLUSH s, and both on
-- demand: the control endpoint bumps "seq" and waits until every worker has reported at that seq (its TICK
-- timer sees it).
local balancer = require "ngx.balancer"
local ssl = require "ngx.ssl"
local lrucache = require "resty.lrucache"
local cjson = require "cjson.safe"
local bit = require "bit"

local routes = ngx.shared.workflow_routes
local stats = ngx.shared.workflow_stats
local byte, floor, min = string.byte, math.floor, math.min
local now, start_time = ngx.now, ngx.req.start_time
local set_current_peer, set_more_tries = balancer.set_current_peer, balancer.set_more_tries
local get_last_failure = balancer.get_last_failure
local get_request = require("resty.core.base").get_request
local ffi = require "ffi"
local cast, uintptr_t = ffi.cast, ffi.typeof("uintptr_t")

local _M = {}

-- Upper bounds (ms) of the latency histogram's buckets; the last one is open.
_M.buckets = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }
local buckets, NBUCKETS = _M.buckets, #_M.buckets

-- The peers ("unix:<path>") of the internal servers that send what is not proxied to an app: not_found,
-- not_ready, forbidden, to_https, maintenance, no_containers (nginx_config.py renders them and passes this table).
local answers = {}
local decoded = {}                  -- app → { version, route }: this worker's decoded copy of the live route
local parsed_certs = lrucache.new(512)  -- content hash → { chain, key } (parsed once per worker)
local turn = {}                     -- app → round-robin position (per worker)
local hosts, hosts_gen, hosts_n = {}, nil, 0  -- host → { app, name, route }, all read while "g" was hosts_gen
local MAX_HOSTS = 4096              -- then the cache starts over (any host name can be sent to the router)
local inflight = {}                 -- "ip:port" → this worker's requests in flight there
local counts = {}                   -- app → { r, t, s = { class → n }, l = { bucket → n } } since the last flush
local TICK, FLUSH = 0.01, 1.0
local POLL = 0.001  -- s between two looks of the control endpoint at the workers' reports

-- The routes' generation, as the workers read it: a double in memory the master maps before it forks them
-- (configure runs in init_by_lua), so every worker sees the same word. The control endpoint stores "g" there
-- after each write (publish); a request reads it with one load. Workers of a reload (which the platform never
-- does) would get a word of their own, the same value for all of them.
pcall(ffi.cdef, "void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset);")
local PROT_READ_WRITE, MAP_SHARED_ANONYMOUS = 0x3, 0x21  -- Linux's values
local generation = nil  -- double[1]

function _M.configure(options)
    answers = options.answers
    local word = ffi.C.mmap(nil, 4096, PROT_READ_WRITE, MAP_SHARED_ANONYMOUS, -1, 0)
    assert(cast(uintptr_t, word) ~= cast(uintptr_t, -1), "cannot map the routes' generation: mmap failed")
    generation = cast("double *", word)
    generation[0] = routes:get("g") or 0
end

-- Control endpoint, after a write is whole: every worker's next lookup drops its cached answers.
function _M.publish(gen)
    generation[0] = gen
end

function _M.generation()
    return generation[0]
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
    for i, up in ipairs(route.upstreams) do up.app, up.list, up.index = route.app, route.upstreams, i end
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

-- What a host name routes to in this worker's cache: { app, name, route } (fields nil when unknown; then
-- `absent`, the answer for it: not found, or not ready while the router has not been given the whole table).
-- A write changes the routes first and publishes the generation last, so an entry computed after the generation
-- was read is never older than it; a new generation empties the cache.
local function lookup(host)
    local gen = generation[0]
    if gen ~= hosts_gen or hosts_n >= MAX_HOSTS then
        hosts, hosts_gen, hosts_n = {}, gen, 0
    end
    local hit = hosts[host]
    if hit then return hit end
    local app, name = find_app(host)
    hit = { app = app, name = name, route = app and current(app) or nil }
    if not app then hit.absent = routes:get("ready") and answers.not_found or answers.not_ready end
    hosts[host], hosts_n = hit, hosts_n + 1
    return hit
end

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

-- Requests between their balancer and log phases (the request's address → the upstream entry it holds in
-- flight, or its app's name when an answer server has it): what ngx.ctx would carry, without a table and a
-- registry reference a request. The log phase always runs when a request is freed and takes the entry out.
local held = {}

local function request_key()
    return tonumber(cast(uintptr_t, get_request()))  -- the pointer's value: a cdata is a key by identity
end

-- Counts a request in flight to an upstream (in this worker) until the log phase or a retry takes it back.
local function hold(r, up)
    held[r] = up
    inflight[up[3]] = (inflight[up[3]] or 0) + 1
end

local function release(up)
    local n = (inflight[up[3]] or 1) - 1
    inflight[up[3]] = n > 0 and n or nil
end

-- The first try of a request: its app (counted in the log phase, whatever the answer) and where it goes — an
-- upstream of the app, held in flight, or the internal server with the answer (nil: the upstream is held).
-- No recheck is needed for the drain: the pick is counted in this worker before it can run anything else,
-- and the worker reports its counts only from its timer, after it has read the request for a report (made
-- after the switch), when every later request of it reads the new generation.
local function route_request(r)
    local host = ngx.var.host
    local hit = lookup(host)
    local app, route = hit.app, hit.route
    if not app then return hit.absent end
    held[r] = app  -- for the log phase, whatever the answer
    if not route or not route.hostset[hit.name] then return answers.not_found end
    if route.nets[1] and not allowed(route.nets, ngx.var.binary_remote_addr) then return answers.forbidden end
    -- Only plain http redirects: a trusted proxy's "http" on the TLS port is not the client's plain request.
    if route.https and ngx.var.workflow_forwarded_proto == "http" and ngx.var.scheme == "http" then
        return answers.to_https
    end
    if route.maintenance then return answers.maintenance end
    local upstreams = route.upstreams
    local n = #upstreams
    if n == 0 then return answers.no_containers end
    local i = ((turn[app] or 0) % n) + 1
    turn[app] = i
    if n > 1 then set_more_tries(min(n, 3) - 1) end
    hold(r, upstreams[i])  -- in place of the app's name: the entry carries it
    return nil
end

-- balancer phase, the whole request path before the log: the first try routes the request (route_request);
-- what is not proxied to the app goes to the internal server of its answer (a unix socket: this phase cannot
-- answer itself, and a phase before it would cost every proxied request a Lua run more — bench/RESULTS.md).
function _M.balance()
    local r = request_key()
    local up = held[r]
    if type(up) == "table" and get_last_failure() then
        -- a retry: the next upstream round from the one that failed (set_more_tries: each tried once at most)
        release(up)
        up = up.list[up.index % #up.list + 1]
        hold(r, up)
    else
        if type(up) == "table" then release(up) end  -- left by a request whose log phase did not run
        local answer = route_request(r)
        if answer then
            local ok, err = set_current_peer(answer)
            if not ok then
                ngx.log(ngx.ERR, "answer server ", answer, ": ", err)
                return ngx.exit(ngx.ERROR)
            end
            return
        end
        up = held[r]
    end
    local ok, err = set_current_peer(up[1], up[2])
    if not ok then
        ngx.log(ngx.ERR, "upstream ", up[3], ": ", err)
        return ngx.exit(ngx.ERROR)
    end
end

-- log phase: the request is done; give back its in-flight count and count it for its app (in this worker).
function _M.log()
    local r = request_key()
    local app = held[r]
    if app == nil then return end
    held[r] = nil
    if type(app) == "table" then
        release(app)
        app = app.app
    end
    local c = counts[app]
    if not c then
        c = { r = 0, t = 0, s = {}, l = {} }
        counts[app] = c
    end
    local class = floor(ngx.status / 100)
    local ms = (now() - start_time()) * 1000  -- $request_time, without a variable lookup
    local bucket = NBUCKETS + 1
    for i = 1, NBUCKETS do
        if ms <= buckets[i] then bucket = i break end
    end
    c.r, c.t = c.r + 1, c.t + ms
    c.s[class] = (c.s[class] or 0) + 1
    c.l[bucket] = (c.l[bucket] or 0) + 1
end

-- Adds this worker's counters to the shared dict.
local function flush()
    local pending = counts
    counts = {}
    for app, c in pairs(pending) do
        stats:incr("r:" .. app, c.r, 0)
        stats:incr("t:" .. app, c.t, 0)
        for class, n in pairs(c.s) do stats:incr("s:" .. app .. ":" .. class, n, 0) end
        for bucket, n in pairs(c.l) do stats:incr("l:" .. app .. ":" .. bucket, n, 0) end
    end
end

local reported, flushed = 0, 0
local function tick(premature)
    if premature then return flush() end  -- the worker is exiting
    local now = ngx.now()
    local seq = stats:get("seq") or 0
    if seq ~= reported then
        flush()
        flushed = now
        stats:set("w:" .. ngx.worker.id(), cjson.encode({ seq = seq, inflight = inflight }))
        reported = seq
    elseif now - flushed >= FLUSH then
        flush()
        flushed = now
    end
end

-- init_worker phase: the timer that flushes and reports.
function _M.start()
    local ok, err = ngx.timer.every(TICK, tick)
    if not ok then ngx.log(ngx.ERR, "cannot start the counters' timer: ", err) end
end

-- Control endpoint: asks every worker for a report and waits (at most `timeout` s) until all have made one;
-- then the counters in the shared dict are complete. Returns the reports ({ inflight }) or nil, reason.
function _M.reports(timeout)
    local seq = stats:incr("seq", 1, 0)
    local deadline = ngx.now() + timeout
    while true do
        local out, missing = {}, false
        for id = 0, ngx.worker.count() - 1 do
            local text = stats:get("w:" .. id)
            local report = text and cjson.decode(text)
            if type(report) ~= "table" or report.seq < seq then missing = true break end
            out[#out + 1] = report
        end
        if not missing then return out end
        if ngx.now() >= deadline then return nil, "workers did not report in " .. timeout .. " s" end
        ngx.sleep(POLL)  -- not TICK: the last worker reports up to TICK after the ask, seen within POLL
        ngx.update_time()
    end
end

-- ssl_certificate phase: the certificate attached to the name the client asked for, else no handshake.
function _M.certificate()
    local name = ssl.server_name()
    if not name then return ngx.exit(ngx.ERROR) end
    local hit = lookup(name:lower())
    local route, matched = hit.route, hit.name
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
