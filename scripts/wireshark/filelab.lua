-- filelab.lua: Wireshark / tshark dissector for the file-transfer lab's two protocols
-- (PROTOCOL.md): the TCP protocol (default port 5001) and the UDP protocol (default
-- port 5002 plus the per-client session ports).
--
-- Load it for one run:      tshark -X lua_script:scripts/wireshark/filelab.lua -r capture.pcap
--                           wireshark -X lua_script:scripts/wireshark/filelab.lua capture.pcap
-- or for good: copy this file into the personal Lua plugins folder
--   Linux/macOS: ~/.local/lib/wireshark/plugins/      Windows: %APPDATA%\Wireshark\plugins\
-- (Help > About Wireshark > Folders shows the exact path).  docs/WIRESHARK.md has the details.
--
-- Control lines ("VERB key=value ...\n") are decoded GENERICALLY: every key is shown by name
-- with its percent-decoded value, so verbs and keys added to the protocol later still decode;
-- the known keys also get typed fields (filelab.size, filelab.transfer, ...) for filters.
-- Data datagrams (first byte 0xD1) show their 12-byte header; the analysis flags sequence
-- jumps (loss) and repeats (duplicates) per transfer id and direction.
--
-- Display-filter fields (a selection): filelab.verb, filelab.transfer, filelab.seq,
-- filelab.flags.resent, filelab.size, filelab.sha256, filelab.name, filelab.data_offset,
-- filelab.range.first, filelab.analysis.lost, filelab.analysis.duplicate, filelab.field.

local PLUGIN_VERSION = "1.0.0"
if set_plugin_info then
    set_plugin_info({
        version = PLUGIN_VERSION,
        description = "File-transfer lab protocols (TCP 5001, UDP 5002; PROTOCOL.md)",
        repository = "scripts/wireshark/filelab.lua",
    })
end

local p = Proto("filelab", "File-transfer lab protocol")

local MAX_LINE = 1024
local DATA_TYPE = 0xD1
local HEADER_SIZE = 12
local MIN_DATAGRAM = 76           -- smallest --chunk-size (header included)
local TWO32 = 4294967296
local PT_TCP, PT_UDP = 2, 3       -- port_type values of packet_info

p.prefs.tcp_port = Pref.uint("TCP port", 5001, "TCP port of the lab's TCP server (0 = heuristics only)")
p.prefs.udp_port = Pref.uint("UDP port", 5002, "Well-known UDP port of the lab's UDP server (0 = heuristics only)")

-- ---------------------------------------------------------------------------------- fields
local F = {}
F.line = ProtoField.string("filelab.line", "Line", base.ASCII, "The control line as sent (without the newline)")
F.verb = ProtoField.string("filelab.verb", "Verb", base.ASCII, "Verb of the control message (HELLO, FILE, ...)")
F.field = ProtoField.string("filelab.field", "Field", base.UNICODE,
    "Any key=value of a control line, value percent-decoded (also keys this dissector does not know)")
F.key = ProtoField.string("filelab.key", "Key", base.ASCII, "Key of a field of a control line")
F.padding = ProtoField.bytes("filelab.padding", "Bytes after the line",
    base.NONE, "Bytes of the datagram after the control line's newline (padding)")

-- typed fields of the known keys (label = the key as it travels)
F.id = ProtoField.uint32("filelab.id", "id", base.DEC, nil, nil, "HELLO: the client's number k in a run of n")
F.total = ProtoField.uint32("filelab.total", "total", base.DEC, nil, nil, "HELLO: clients in the run")
F.name = ProtoField.string("filelab.name", "name", base.UNICODE, "FILE: file name (percent-decoded)")
F.size = ProtoField.uint64("filelab.size", "size", base.DEC, nil, nil, "FILE/DATA: file size in bytes")
F.sha256 = ProtoField.string("filelab.sha256", "sha256", base.ASCII, "SHA-256 of the file (hex)")
F.clients = ProtoField.uint32("filelab.clients", "clients", base.DEC, nil, nil, "clients of the test")
F.mode = ProtoField.string("filelab.mode", "mode", base.ASCII, "UDP mode: raw or reliable")
F.chunk = ProtoField.uint32("filelab.chunk", "chunk", base.DEC, nil, nil, "UDP FILE: file bytes per data datagram")
F.transfer = ProtoField.uint32("filelab.transfer", "transfer", base.DEC, nil, nil, "UDP transfer id (session)")
F.ready = ProtoField.uint32("filelab.ready", "ready", base.DEC, nil, nil, "WAIT: clients ready so far")
F.chunks = ProtoField.uint64("filelab.chunks", "chunks", base.DEC, nil, nil, "END: chunks of the file")
F.bytes = ProtoField.uint64("filelab.bytes", "bytes", base.DEC, nil, nil, "bytes (received, sent, ...)")
F.received = ProtoField.uint64("filelab.received", "received", base.DEC, nil, nil,
    "NACK: data datagrams received so far")
F.lost = ProtoField.uint64("filelab.lost", "lost", base.DEC, nil, nil, "NACK: new gaps since the previous NACK")
F.ranges = ProtoField.string("filelab.ranges", "ranges", base.ASCII, "NACK: inclusive chunk ranges a-b_c_...")
F.elapsed_us = ProtoField.uint64("filelab.elapsed_us", "elapsed_us", base.DEC, nil, nil,
    "NACK: microseconds from the first data datagram received to this NACK")
F.highest = ProtoField.uint64("filelab.highest", "highest", base.DEC, nil, nil, "NACK: highest seq seen so far")
F.rcvbuf = ProtoField.uint64("filelab.rcvbuf", "rcvbuf", base.DEC, nil, nil,
    "UDP READY: the client's socket receive buffer in bytes (bounds the session's bursts)")
F.datagrams = ProtoField.uint64("filelab.datagrams", "datagrams", base.DEC, nil, nil, "REPORT: datagrams received")
F.missing = ProtoField.uint64("filelab.missing", "missing", base.DEC, nil, nil, "REPORT: chunks missing")
F.duplicates = ProtoField.uint64("filelab.duplicates", "duplicates", base.DEC, nil, nil, "REPORT: duplicates")
F.out_of_order = ProtoField.uint64("filelab.out_of_order", "out_of_order", base.DEC, nil, nil,
    "REPORT: chunks below the highest seen")
F.ok = ProtoField.bool("filelab.ok", "ok", base.NONE, nil, nil, "DONE/REPORT/BYE verdict (1 = verified)")
F.reason = ProtoField.string("filelab.reason", "reason", base.UNICODE, "BUSY/ERROR: reason (percent-decoded)")
F.seq = ProtoField.uint32("filelab.seq", "seq", base.DEC, nil, nil,
    "Sequence number: chunk number of a data datagram, or PING/PONG seq")
F.token = ProtoField.string("filelab.token", "token", base.ASCII,
    "UDP address-validation token (RETRY, echoed in HELLO): 8 hex time window + 32 hex HMAC")
F.token_window = ProtoField.uint32("filelab.token.window", "Time window", base.DEC, nil, nil,
    "floor(unix time / 30) when the server made the token")
F.token_time = ProtoField.absolute_time("filelab.token.time", "Window starts", base.UTC)
F.token_mac = ProtoField.string("filelab.token.mac", "HMAC-SHA256 (first 16 bytes)", base.ASCII)
F.pad = ProtoField.uint32("filelab.pad", "pad", base.DEC, nil, nil,
    "HELLO padding: length of the run of zeros that makes the datagram 1,024 bytes")

-- NACK ranges
F.range = ProtoField.string("filelab.range", "Range", base.ASCII, "One inclusive chunk range of a NACK")
F.range_first = ProtoField.uint32("filelab.range.first", "First seq", base.DEC)
F.range_last = ProtoField.uint32("filelab.range.last", "Last seq", base.DEC)
F.range_count = ProtoField.uint32("filelab.range.count", "Chunks in range", base.DEC)
F.nack_chunks = ProtoField.uint32("filelab.nack_chunks", "Chunks asked for", base.DEC, nil, nil,
    "NACK: chunks in all ranges of this NACK")
F.rate = ProtoField.double("filelab.rate", "Delivery rate (bytes/s)", "NACK feedback: bytes / elapsed_us")

-- data datagram header and file data
F.type = ProtoField.uint8("filelab.type", "Type", base.HEX, { [DATA_TYPE] = "data" }, nil,
    "0xD1 = data datagram")
F.version = ProtoField.uint8("filelab.version", "Version", base.DEC)
F.flags = ProtoField.uint16("filelab.flags", "Flags", base.HEX)
F.flag_resent = ProtoField.bool("filelab.flags.resent", "Resent", 16, nil, 0x0001,
    "Flag bit 0: this chunk was sent again (reliable mode)")
F.flag_reserved = ProtoField.uint16("filelab.flags.reserved", "Reserved", base.HEX, nil, 0xFFFE)
F.data = ProtoField.bytes("filelab.data", "File data")
F.data_offset = ProtoField.uint64("filelab.data_offset", "File offset", base.DEC, nil, nil,
    "Offset in the file of the first byte of this file data")
F.data_len = ProtoField.uint32("filelab.data_len", "File data length", base.DEC)
F.file = ProtoField.string("filelab.file", "File", base.UNICODE, "File name from the FILE message")
F.file_frame = ProtoField.framenum("filelab.file_frame", "FILE in frame", base.NONE, nil, nil,
    "Frame of the FILE message that announced this transfer")
F.gso_segments = ProtoField.uint32("filelab.gso_segments", "Datagrams in this capture record", base.DEC, nil, nil,
    "A GSO/GRO super-datagram: several data datagrams captured as one")

-- analysis (per transfer id and direction, from the capture)
F.lost_seqs = ProtoField.uint32("filelab.analysis.lost", "Seqs skipped (lost or reordered)", base.DEC, nil, nil,
    "Sequence jump: this many chunks between the previous highest seq and this one were not seen (yet)")
F.duplicate = ProtoField.framenum("filelab.analysis.duplicate", "Duplicate of frame", base.NONE, nil, nil,
    "This seq was already seen in that frame")
F.out_of_order_a = ProtoField.bool("filelab.analysis.out_of_order", "Out of order", base.NONE, nil, nil,
    "Seq below the highest seen so far, first time seen (a resend or a reordered datagram)")
F.expected_seq = ProtoField.uint32("filelab.analysis.expected_seq", "Expected seq", base.DEC)

-- request / answer pairs (HELLO -> FILE, READY -> START, PING -> PONG, ...)
F.request_in = ProtoField.framenum("filelab.request_in", "Answer to the request in frame", base.NONE, nil, nil,
    "The HELLO / READY / DONE / REPORT / PING this message answers")
F.response_ms = ProtoField.double("filelab.response_ms", "Time since the request (ms)",
    "Time from the request (its last repeat before this answer) to this answer; for PONG the ping's round trip")

local field_list = {}
for _, f in pairs(F) do field_list[#field_list + 1] = f end
p.fields = field_list

-- ---------------------------------------------------------------------------------- expert info
local E = {
    lost = ProtoExpert.new("filelab.expert.lost", "Sequence jump: datagrams lost (or reordered)",
        expert.group.SEQUENCE, expert.severity.WARN),
    duplicate = ProtoExpert.new("filelab.expert.duplicate", "Duplicate datagram (seq seen before)",
        expert.group.SEQUENCE, expert.severity.NOTE),
    out_of_order = ProtoExpert.new("filelab.expert.out_of_order", "Seq below the highest seen (resend or reorder)",
        expert.group.SEQUENCE, expert.severity.CHAT),
    malformed = ProtoExpert.new("filelab.expert.malformed", "Malformed control line",
        expert.group.MALFORMED, expert.severity.ERROR),
    missing = ProtoExpert.new("filelab.expert.missing", "Required field missing",
        expert.group.MALFORMED, expert.severity.WARN),
    bad_value = ProtoExpert.new("filelab.expert.bad_value", "Field value does not parse",
        expert.group.MALFORMED, expert.severity.WARN),
    unknown_verb = ProtoExpert.new("filelab.expert.unknown_verb", "Verb unknown to this dissector (newer protocol?)",
        expert.group.UNDECODED, expert.severity.NOTE),
    truncated = ProtoExpert.new("filelab.expert.truncated", "Cut short by the capture's snapshot length",
        expert.group.UNDECODED, expert.severity.NOTE),
    bad_length = ProtoExpert.new("filelab.expert.bad_length", "Data datagram length does not fit the chunk size",
        expert.group.PROTOCOL, expert.severity.WARN),
    unknown_bytes = ProtoExpert.new("filelab.expert.unknown_bytes",
        "Bytes that are neither a control line nor known file data (capture started mid-stream?)",
        expert.group.UNDECODED, expert.severity.NOTE),
    unknown_datagram = ProtoExpert.new("filelab.expert.unknown_datagram", "Neither a control line nor a data datagram",
        expert.group.MALFORMED, expert.severity.WARN),
    error_msg = ProtoExpert.new("filelab.expert.error", "ERROR or BUSY message",
        expert.group.RESPONSE_CODE, expert.severity.NOTE),
}
p.experts = { E.lost, E.duplicate, E.out_of_order, E.malformed, E.missing, E.bad_value, E.unknown_verb,
              E.truncated, E.bad_length, E.unknown_datagram, E.error_msg, E.unknown_bytes }

-- ---------------------------------------------------------------------------------- message catalogue
-- key -> {field, kind}; kind: "u" (unsigned integer), "s" (text), "b" (0/1 flag), "r" (NACK ranges)
local KEYS = {
    id = { F.id, "u" }, total = { F.total, "u" }, name = { F.name, "s" }, size = { F.size, "u" },
    sha256 = { F.sha256, "s" }, clients = { F.clients, "u" }, mode = { F.mode, "s" }, chunk = { F.chunk, "u" },
    transfer = { F.transfer, "u" }, ready = { F.ready, "u" }, chunks = { F.chunks, "u" },
    bytes = { F.bytes, "u" }, received = { F.received, "u" }, lost = { F.lost, "u" },
    ranges = { F.ranges, "r" }, elapsed_us = { F.elapsed_us, "u" }, highest = { F.highest, "u" },
    rcvbuf = { F.rcvbuf, "u" },
    datagrams = { F.datagrams, "u" }, missing = { F.missing, "u" }, duplicates = { F.duplicates, "u" },
    out_of_order = { F.out_of_order, "u" }, ok = { F.ok, "b" }, reason = { F.reason, "s" },
    seq = { F.seq, "u" }, token = { F.token, "t" }, pad = { F.pad, "p" },
}
local U32_KEYS = { id = true, total = true, clients = true, chunk = true, transfer = true, ready = true, seq = true }

-- required keys per verb (used for expert info and by the heuristics)
local TCP_VERBS = {
    HELLO = { "id", "total" }, FILE = { "name", "size", "sha256", "clients" }, BUSY = { "reason" },
    READY = {}, DATA = { "size" }, DONE = { "bytes", "sha256", "ok" }, BYE = { "ok" }, ERROR = { "reason" },
}
local UDP_VERBS = {
    HELLO = { "id", "total" }, FILE = { "name", "size", "sha256", "clients", "chunk", "transfer", "mode" },
    BUSY = { "reason" }, ERROR = { "reason" }, READY = { "transfer" }, WAIT = { "transfer", "ready", "clients" },
    START = { "transfer" }, NACK = { "transfer", "received", "lost" }, END = { "transfer", "chunks", "bytes" },
    REPORT = { "transfer", "bytes", "datagrams", "missing", "duplicates", "out_of_order", "sha256", "ok" },
    BYE = { "transfer", "ok" }, PING = { "seq" }, PONG = { "seq" }, RETRY = { "token" },
}

-- ---------------------------------------------------------------------------------- state
-- Learned on the first pass, looked up on later passes (GUI clicks, tshark -2).
local transfers = {}     -- UDP transfer id -> {chunk=, size=, name=, frame=}
local tcp_regions = {}   -- "stream:src:port" -> list of {start=raw seq, size=bytes} of file data
local tcp_files = {}     -- "stream:src:port" -> {name=, size=, frame=} from FILE
local seq_state = {}     -- "transfer|src>dst" -> {highest=, seen={seq=frame}}
local seq_results = {}   -- "frame:index" -> analysis verdict of one data datagram
local requests = {}      -- "client ip:port|kind" -> {frame=, time=} of the last request seen
local answers = {}       -- "frame:verb" -> {frame=, ms=} for an answer

function p.init()
    transfers, tcp_regions, tcp_files, seq_state, seq_results = {}, {}, {}, {}, {}
    requests, answers = {}, {}
end

-- which request each answer belongs to (per transport)
local ANSWERS = {
    tcp = { FILE = "HELLO", BUSY = "HELLO", DATA = "READY", BYE = "DONE" },
    udp = { FILE = "HELLO", RETRY = "HELLO", BUSY = "HELLO", WAIT = "READY", START = "READY", BYE = "REPORT",
            PONG = "PING" },
}
local REQUESTS = { HELLO = true, READY = true, DONE = true, REPORT = true, PING = true }

-- Remember requests, and tie an answer to the last request of its client (first pass; stored per frame).
local function pair_messages(pinfo, tree, verb, values, transport)
    local akey = tostring(pinfo.number) .. ":" .. verb
    local found = answers[akey]
    if found == nil and not pinfo.visited then
        local suffix = ""
        if verb == "PING" or verb == "PONG" then suffix = ":" .. tostring(values.seq) end
        if REQUESTS[verb] then
            local client = tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
            requests[client .. "|" .. verb .. suffix] = { frame = pinfo.number, time = pinfo.abs_ts }
        end
        local wanted = ANSWERS[transport][verb]
        if wanted then
            local client = tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
            local req = requests[client .. "|" .. wanted .. suffix]
            if req then
                found = { frame = req.frame, ms = (pinfo.abs_ts - req.time) * 1000 }
            end
        end
        answers[akey] = found or false
    end
    if found then
        tree:add(F.request_in, found.frame):set_generated()
        tree:add(F.response_ms, found.ms):set_generated()
    end
end

local f_tcp_seq_raw = Field.new("tcp.seq_raw")
local f_tcp_len = Field.new("tcp.len")
local f_tcp_stream = Field.new("tcp.stream")

local function last_value(extractor)
    local all = { extractor() }
    local fi = all[#all]
    return fi and fi.value
end

-- ---------------------------------------------------------------------------------- text helpers
local function valid_value(s)
    -- RFC 3986 unreserved characters and %XX escapes only
    local i, n = 1, #s
    while i <= n do
        local c = s:sub(i, i)
        if c == "%" then
            if not s:sub(i + 1, i + 2):match("^%x%x$") then return false end
            i = i + 3
        elseif c:match("^[A-Za-z0-9._~%-]$") then
            i = i + 1
        else
            return false
        end
    end
    return true
end

local function pct_decode(s)
    return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_uint(s)
    -- decimal string -> number (exact below 2^53); nil when not digits or beyond 2^64
    if not s:match("^%d+$") then return nil end
    local trimmed = s:gsub("^0+(%d)", "%1")
    if #trimmed > 20 or (#trimmed == 20 and trimmed > "18446744073709551615") then return nil end
    return tonumber(s)
end

-- a Lua number as a UInt64 (ProtoField.uint64 items want one)
local function u64(n)
    return UInt64.new(string.format("%.0f", n))
end

local function short(value, limit)
    limit = limit or 40
    if #value > limit then return value:sub(1, limit) .. "..." end
    return value
end

local function info_value(key, decoded)
    if (key == "sha256" and #decoded == 64) or (key == "token" and #decoded == 40) then
        return decoded:sub(1, 8) .. "..."
    end
    local v = short(decoded)
    if v:find("[ ,=]") or v == "" then v = "'" .. v .. "'" end
    return v
end

-- Split a line into verb and tokens, with byte offsets (0-based, relative to the line start).
-- Returns {verb=, verb_ok=, fields={{key=,raw=,value=,off=,len=,key_ok=,value_ok=}}, bad={...}}
local function split_line(line)
    local result = { fields = {}, bad = {} }
    local first = true
    for pos, token in line:gmatch("()([^ ]+)") do
        if first then
            first = false
            result.verb = token
            result.verb_off = pos - 1
            result.verb_ok = token:match("^[A-Z][A-Z0-9_]*$") ~= nil and #token <= 32
        else
            local key, raw = token:match("^([^=]*)=(.*)$")
            if key then
                local f = { key = key, raw = raw, off = pos - 1, len = #token,
                            key_ok = key:match("^[a-z][a-z0-9_]*$") ~= nil and #key <= 32,
                            value_ok = valid_value(raw) }
                f.value = f.value_ok and pct_decode(raw) or raw
                result.fields[#result.fields + 1] = f
            else
                result.bad[#result.bad + 1] = { token = token, off = pos - 1, len = #token }
            end
        end
    end
    return result
end

local function is_ascii(line)
    return not line:find("[^\32-\126]")
end

-- Does this line look like one of ours? strict: known verb with its required keys
-- (the heuristics); loose: any well-formed VERB key=value line with at least one field.
local function line_is_ours(line, verbs, allow_unknown)
    if #line == 0 or #line > MAX_LINE or not is_ascii(line) then return false end
    local parts = split_line(line)
    if not parts.verb_ok or #parts.bad > 0 then return false end
    for _, f in ipairs(parts.fields) do
        if not f.key_ok or not f.value_ok then return false end
    end
    local required = verbs[parts.verb]
    if not required then
        return allow_unknown and #parts.fields > 0
    end
    local have = {}
    for _, f in ipairs(parts.fields) do have[f.key] = true end
    for _, key in ipairs(required) do
        if not have[key] then return false end
    end
    return true
end

-- ---------------------------------------------------------------------------------- control lines
local function add_ranges(tree, range, raw)
    local total = 0
    local sub = tree
    for pos, item in raw:gmatch("()([^_]+)") do
        local a, b = item:match("^(%d+)%-(%d+)$")
        if not a then a = item:match("^(%d+)$"); b = a end
        local r = range(pos - 1, #item)
        if a then
            a, b = tonumber(a), tonumber(b)
            local count = math.max(b - a + 1, 0)
            local ri = sub:add(F.range, r, item)
            ri:set_text(string.format("Range: %s (%d chunk%s)", item, count, count == 1 and "" or "s"))
            if b < a then ri:add_proto_expert_info(E.bad_value, "range " .. item .. " ends before it starts") end
            ri:add(F.range_first, r, a)
            ri:add(F.range_last, r, b)
            ri:add(F.range_count, r, count):set_generated()
            total = total + count
        else
            sub:add(F.range, r, item):add_proto_expert_info(E.bad_value, "bad range " .. short(item, 30))
        end
    end
    return total
end

-- Decode one control line (tvb range `lr` without the newline, `line` its text) into `tree`.
-- Returns parts (verb + fields) and a short Info text.
local function dissect_line(lr, line, pinfo, tree, verbs, transport, cut)
    local parts = split_line(line)
    if cut then
        -- the last token is partial: shown as it is, never as a typed value or an error
        local lf, lb = parts.fields[#parts.fields], parts.bad[#parts.bad]
        if lb and (not lf or lb.off > lf.off) then
            parts.bad[#parts.bad] = nil
            parts.fields[#parts.fields + 1] = { key = lb.token, raw = "", value = "", off = lb.off, len = lb.len,
                                                key_ok = true, value_ok = true, cut = true }
        elseif lf then
            lf.cut = true
        end
    end
    tree:add(F.line, lr, line)
    if not is_ascii(line) then
        tree:add_proto_expert_info(E.malformed, "line is not printable ASCII")
    end
    local verb = parts.verb or ""
    local vi = tree:add(F.verb, lr(parts.verb_off or 0, #verb), verb)
    if not parts.verb_ok then
        vi:add_proto_expert_info(E.malformed, "bad verb " .. short(verb, 32))
    elseif not verbs[verb] and not (cut and #parts.fields == 0 and #parts.bad == 0) then
        vi:add_proto_expert_info(E.unknown_verb, "verb " .. verb .. " is not in this dissector's list; fields shown generically")
    end
    local info = { verb }
    local values = {}
    for _, f in ipairs(parts.fields) do
        local r = lr(f.off, f.len)
        local known = KEYS[f.key]
        local item
        if f.cut then
            item = tree:add(F.field, r, f.raw == "" and f.key or (f.key .. "=" .. f.value))
            item:set_text(lr(f.off, f.len):string() .. "... [cut by the snapshot length]")
            known = nil
        elseif known and f.value_ok then
            local field, kind = known[1], known[2]
            if kind == "u" then
                local n = parse_uint(f.value)
                if n ~= nil and U32_KEYS[f.key] and (type(n) ~= "number" or n >= TWO32) then n = nil end
                if n ~= nil then
                    if U32_KEYS[f.key] then
                        item = tree:add(field, r, n)
                    else
                        item = tree:add(field, r, UInt64.new(f.value))   -- exact, whatever the size
                    end
                    values[f.key] = (type(n) == "number") and n or tonumber(f.value)
                end
            elseif kind == "b" then
                if f.value == "0" or f.value == "1" then
                    item = tree:add(field, r, f.value == "1")
                    item:set_text(f.key .. ": " .. f.value .. (f.value == "1" and " (yes)" or " (no)"))
                    values[f.key] = (f.value == "1")
                end
            elseif kind == "r" then
                item = tree:add(field, r, f.value)
                local vr = (#f.raw > 0) and lr(f.off + #f.key + 1, #f.raw) or r
                local ok, count = pcall(add_ranges, item, vr, f.value)
                if ok then
                    item:add(F.nack_chunks, r, count):set_generated()
                    item:set_text(string.format("ranges: %s (%d chunk%s)",
                                                f.value == "" and "(none: feedback only)" or short(f.value, 60),
                                                count, count == 1 and "" or "s"))
                end
                values[f.key] = f.value
            elseif kind == "p" then
                item = tree:add(field, r, #f.value)
                item:set_text(string.format("pad: %d byte%s of '0'", #f.value, #f.value == 1 and "" or "s"))
                values[f.key] = #f.value
            elseif kind == "t" then
                item = tree:add(field, r, f.value)
                local window, mac = f.value:match("^(%x%x%x%x%x%x%x%x)(%x+)$")
                if window then
                    local w = tonumber(window, 16)
                    item:add(F.token_window, r, w)
                    item:add(F.token_time, r, NSTime.new(w * 30, 0)):set_generated()
                    item:add(F.token_mac, r, mac)
                end
                values[f.key] = f.value
            else
                item = tree:add(field, r, f.value)
                values[f.key] = f.value
            end
            if item == nil then
                item = tree:add(F.field, r, f.key .. "=" .. f.value)
                item:set_text(f.key .. ": " .. f.value)
                item:add_proto_expert_info(E.bad_value, "value of " .. f.key .. " does not parse: " .. short(f.value, 30))
            end
        elseif not f.cut then
            item = tree:add(F.field, r, f.key .. "=" .. f.value)
            item:set_text(f.key .. ": " .. f.value)
            values[f.key] = f.value
            if not f.key_ok then item:add_proto_expert_info(E.malformed, "bad key " .. short(f.key, 32)) end
            if not f.value_ok then item:add_proto_expert_info(E.malformed, "value is not percent-encoded correctly") end
        end
        item:add(F.key, lr(f.off, #f.key), f.key):set_hidden()
        if f.key == "pad" then
            info[#info + 1] = string.format("pad=(%d bytes)", #f.value)
        else
            info[#info + 1] = f.key .. "=" .. info_value(f.key, f.value)
        end
    end
    for _, b in ipairs(parts.bad) do
        tree:add(F.field, lr(b.off, b.len), b.token):add_proto_expert_info(E.malformed, "token without '='")
    end
    local required = verbs[verb]
    if required and not cut then
        for _, key in ipairs(required) do
            if values[key] == nil then
                tree:add_proto_expert_info(E.missing, verb .. " without " .. key .. "=")
            end
        end
    end
    if verb == "ERROR" or verb == "BUSY" then
        tree:add_proto_expert_info(E.error_msg, verb .. ": " .. short(tostring(values.reason or ""), 80))
    end
    if parts.verb_ok then pair_messages(pinfo, tree, verb, values, transport) end
    -- NACK feedback: the delivery rate it implies
    if verb == "NACK" and type(values.bytes) == "number" and type(values.elapsed_us) == "number"
            and values.elapsed_us > 0 then
        tree:add(F.rate, lr, values.bytes * 1e6 / values.elapsed_us):set_generated()
    end
    return parts, values, table.concat(info, " ")
end

local function set_info(pinfo, state, text)
    if state.first then
        pinfo.cols.info:set(text)
        state.first = false
    else
        pinfo.cols.info:append(" | " .. text)
    end
end

-- ---------------------------------------------------------------------------------- TCP
local function tcp_key(pinfo)
    local stream = last_value(f_tcp_stream)
    return tostring(stream) .. ":" .. tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
end

local function find_region(key, seq)
    local list = tcp_regions[key]
    if not list or seq == nil then return nil end
    for _, r in ipairs(list) do
        local d = (seq - r.start) % TWO32
        if d < r.size then return r, d end
    end
    return nil
end

local function add_region(key, start, size)
    local list = tcp_regions[key]
    if not list then list = {}; tcp_regions[key] = list end
    for _, r in ipairs(list) do
        if r.start == start then return end
    end
    list[#list + 1] = { start = start, size = math.min(size, TWO32 - 1) }
end

-- find the newline in tvb[from, limit); returns its offset or nil
local function find_newline(tvb, from, limit)
    if limit <= from then return nil end
    local s = tvb:raw(from, limit - from)
    local pos = s:find("\n", 1, true)
    return pos and (from + pos - 1) or nil
end

local function dissect_tcp(tvb, pinfo, tree)
    local total = tvb:reported_len()
    local caplen = tvb:len()
    local key = tcp_key(pinfo)
    local seq_raw = last_value(f_tcp_seq_raw)
    local seg_len = last_value(f_tcp_len)
    local start_seq = nil
    if seq_raw ~= nil and seg_len ~= nil then
        start_seq = (seq_raw + seg_len - total) % TWO32
    end
    pinfo.cols.protocol = "FILELAB"
    local state = { first = true }
    local off = 0
    while off < total do
        local region, roff = find_region(key, start_seq and (start_seq + off) % TWO32)
        if region then
            local n = math.min(region.size - roff, total - off)
            local shown = math.max(math.min(n, caplen - off), 0)
            local label = string.format("File-transfer lab protocol (TCP), file data: offset %d, %d bytes", roff, n)
            local st
            if shown > 0 then
                local dr = tvb(off, shown)
                st = tree:add(p, dr, label)
                st:add(F.data, dr)
                st:add(F.data_offset, dr, u64(roff)):set_generated()
                st:add(F.data_len, dr, n):set_generated()
            else
                st = tree:add(p, label)
                st:add(F.data_offset, u64(roff)):set_generated()
                st:add(F.data_len, n):set_generated()
            end
            local file = tcp_files[key]
            if file then
                st:add(F.file, file.name):set_generated()
            end
            if shown < n then st:add_proto_expert_info(E.truncated, "file data not captured in full (snaplen)") end
            set_info(pinfo, state, string.format("File data offset=%d len=%d", roff, n))
            off = off + n
        else
            if off >= caplen then break end
            local limit = math.min(caplen, off + MAX_LINE)
            local nl = find_newline(tvb, off, limit)
            if not nl then
                if caplen - off >= MAX_LINE then
                    local st = tree:add(p, tvb(off, caplen - off), "File-transfer lab protocol (TCP), no line end")
                    st:add_proto_expert_info(E.malformed, "no newline within 1024 bytes")
                    set_info(pinfo, state, "[line over 1024 bytes]")
                    return total
                elseif caplen < total then
                    -- cut by the snapshot length: decode what is there
                    local lr = tvb(off, caplen - off)
                    local st = tree:add(p, lr, "File-transfer lab protocol (TCP), line cut by snaplen")
                    local _, _, text = dissect_line(lr, lr:string(), pinfo, st, TCP_VERBS, "tcp", true)
                    st:add_proto_expert_info(E.truncated, "line cut short by the capture's snapshot length")
                    set_info(pinfo, state, text .. " [cut]")
                    return total
                end
                -- the line continues in the next segment: ask TCP for more
                pinfo.desegment_offset = off
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return total
            end
            local len = nl - off
            local body = len
            if body > 0 and tvb(off + body - 1, 1):uint() == 13 then body = body - 1 end
            local lr = tvb(off, math.max(body, 0))
            local line = body > 0 and lr:string() or ""
            local first_word = line:match("^([^ ]*)") or ""
            if body == 0 or not first_word:match("^[A-Z][A-Z0-9_]*$") or #first_word > 32 or not is_ascii(line) then
                -- not a control line (capture started mid-stream, or not ours): show the rest as is
                local st = tree:add(p, tvb(off, caplen - off), "File-transfer lab protocol (TCP), unrecognised bytes")
                st:add_proto_expert_info(E.unknown_bytes, "bytes that are neither a control line nor known file data " ..
                                         "(the capture started after the DATA line?)")
                set_info(pinfo, state, "[unrecognised bytes]")
                return total
            end
            local st = tree:add(p, tvb(off, len + 1))
            local parts, values, text = dissect_line(lr, line, pinfo, st, TCP_VERBS, "tcp")
            st:append_text(" (TCP), " .. parts.verb)
            set_info(pinfo, state, text)
            if parts.verb == "FILE" and values.name then
                tcp_files[key] = { name = values.name, frame = pinfo.number }
            end
            if parts.verb == "DATA" and type(values.size) == "number" and values.size > 0 and start_seq then
                add_region(key, (start_seq + nl + 1) % TWO32, values.size)
                local file = tcp_files[key]
                if file then st:add(F.file, file.name):set_generated() end
            end
            off = nl + 1
        end
    end
    return total
end

-- ---------------------------------------------------------------------------------- UDP
local function analyse_seq(pinfo, index, transfer, seq)
    local rkey = tostring(pinfo.number) .. ":" .. index
    local verdict = seq_results[rkey]
    if verdict then return verdict end
    if pinfo.visited then return nil end
    local skey = tostring(transfer) .. "|" .. tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port) .. ">" ..
                 tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
    local st = seq_state[skey]
    if not st then st = { highest = -1, seen = {} }; seq_state[skey] = st end
    verdict = { expected = st.highest + 1 }
    if st.seen[seq] then
        verdict.duplicate = st.seen[seq]
    elseif seq > st.highest + 1 then
        verdict.lost = seq - st.highest - 1
        verdict.from, verdict.to = st.highest + 1, seq - 1
    elseif seq < st.highest then
        verdict.out_of_order = true
    end
    if not st.seen[seq] then st.seen[seq] = pinfo.number end
    if seq > st.highest then st.highest = seq end
    seq_results[rkey] = verdict
    return verdict
end

-- offsets of the data datagrams in a capture record: one, or several when GSO/GRO glued them
local function data_segments(tvb, total, caplen)
    local transfer = tvb(4, 4):uint()
    local info = transfers[transfer]
    local seg = nil
    if info and info.chunk and total > HEADER_SIZE + info.chunk then
        seg = HEADER_SIZE + info.chunk
    elseif total > 2 * HEADER_SIZE and caplen >= total then
        -- no FILE seen: look for the next header of the same transfer id
        local raw = tvb:raw(0, caplen)
        local needle = raw:sub(1, 2)
        local tid = raw:sub(5, 8)
        local at = raw:find(tid, HEADER_SIZE + 5, true)
        while at do
            local start = at - 5      -- 0-based offset of the candidate header
            if start >= HEADER_SIZE and raw:sub(start + 1, start + 2) == needle then
                seg = start
                break
            end
            at = raw:find(tid, at + 1, true)
        end
    end
    local offsets = { 0 }
    if seg then
        local ok = true
        local o = seg
        local list = { 0 }
        while o < total do
            -- headers beyond the snapshot length cannot be checked (nor shown); the ones captured must match
            if o + HEADER_SIZE <= caplen and (tvb(o, 1):uint() ~= DATA_TYPE or tvb(o + 4, 4):uint() ~= transfer) then
                ok = false
                break
            end
            list[#list + 1] = o
            o = o + seg
        end
        if ok then offsets = list end
    end
    return offsets, (#offsets > 1) and seg or total
end

-- one data datagram (header, chunk, analysis) at offset o of the record; returns its Info text
local function dissect_one(tvb, pinfo, top, multi, index, o, len, shown)
    local st = top
    if multi then
        st = top:add(p, tvb(o, shown), "Data datagram " .. index)
    end
    local transfer = tvb(o + 4, 4):uint()
    local seq = tvb(o + 8, 4):uint()
    local flags = tvb(o + 2, 2):uint()
    local resent = (flags % 2) == 1
    st:add(F.type, tvb(o, 1))
    local vi = st:add(F.version, tvb(o + 1, 1))
    if tvb(o + 1, 1):uint() ~= 1 then vi:add_proto_expert_info(E.bad_value, "unknown version") end
    local fi = st:add(F.flags, tvb(o + 2, 2))
    fi:add(F.flag_resent, tvb(o + 2, 2))
    fi:add(F.flag_reserved, tvb(o + 2, 2))
    if resent then fi:append_text(" (resent)") end
    st:add(F.transfer, tvb(o + 4, 4))
    st:add(F.seq, tvb(o + 8, 4))
    local datalen = len - HEADER_SIZE
    local info = transfers[transfer]
    if datalen > 0 and shown > HEADER_SIZE then
        st:add(F.data, tvb(o + HEADER_SIZE, shown - HEADER_SIZE))
    end
    st:add(F.data_len, tvb(o, math.min(shown, HEADER_SIZE)), datalen):set_generated()
    if info and info.chunk then
        st:add(F.data_offset, tvb(o, math.min(shown, HEADER_SIZE)), u64(seq * info.chunk)):set_generated()
        if info.name then st:add(F.file, info.name):set_generated() end
        st:add(F.file_frame, info.frame):set_generated()
        if info.size then
            local chunks = math.ceil(info.size / info.chunk)
            local want = (seq < chunks) and math.min(info.chunk, info.size - seq * info.chunk) or nil
            if want == nil then
                st:add_proto_expert_info(E.bad_length, string.format("seq %d is beyond the last chunk (%d)", seq, chunks - 1))
            elseif want ~= datalen then
                st:add_proto_expert_info(E.bad_length, string.format("%d data bytes, chunk %d should have %d", datalen, seq, want))
            end
        end
    end
    if shown < len then st:add_proto_expert_info(E.truncated, "datagram not captured in full (snaplen)") end
    local verdict = analyse_seq(pinfo, index, transfer, seq)
    if verdict then
        if verdict.duplicate then
            st:add(F.duplicate, verdict.duplicate):set_generated()
            st:add_proto_expert_info(E.duplicate, string.format(
                "duplicate: seq %d of transfer %d already seen in frame %d%s", seq, transfer, verdict.duplicate,
                resent and " (a resent copy)" or ""))
        elseif verdict.lost then
            st:add(F.expected_seq, verdict.expected):set_generated()
            st:add(F.lost_seqs, verdict.lost):set_generated()
            st:add_proto_expert_info(E.lost, string.format(
                "sequence jump: expected seq %d, got %d; %d datagram(s) not seen (%s)", verdict.expected, seq,
                verdict.lost, verdict.from == verdict.to and tostring(verdict.from)
                or (verdict.from .. "-" .. verdict.to)))
        elseif verdict.out_of_order then
            st:add(F.out_of_order_a, true):set_generated()
            st:add_proto_expert_info(E.out_of_order, string.format(
                "seq %d below the highest seen so far%s", seq, resent and " (resent chunk)" or ""))
        end
    end
    local tag = resent and " resent" or ""
    if verdict and verdict.duplicate then tag = tag .. " [dup]" end
    if verdict and verdict.lost then tag = tag .. " [jump +" .. verdict.lost .. "]" end
    st:append_text(string.format(" (UDP), data transfer=%d seq=%d len=%d%s", transfer, seq, datalen,
                                 resent and " resent" or ""))
    return string.format("seq=%d", seq) .. tag
end

local function dissect_data(tvb, pinfo, tree, state)
    local total = tvb:reported_len()
    local caplen = tvb:len()
    local offsets, seg = data_segments(tvb, total, caplen)
    local top = tree:add(p, tvb(0, caplen))
    if #offsets > 1 then
        top:add(F.gso_segments, tvb(0, caplen), #offsets):set_generated()
    end
    local texts = {}
    local uncaptured = 0
    for index, o in ipairs(offsets) do
        local len = math.min(seg, total - o)
        local shown = math.max(math.min(len, caplen - o), 0)
        if shown < HEADER_SIZE and index > 1 then
            uncaptured = uncaptured + 1
        else
            texts[#texts + 1] = dissect_one(tvb, pinfo, top, #offsets > 1, index, o, len, shown)
        end
    end
    if uncaptured > 0 then
        top:add_proto_expert_info(E.truncated, string.format(
            "%d of the %d datagrams in this record were not captured (snaplen)", uncaptured, #offsets))
        texts[#texts + 1] = string.format("+%d not captured", uncaptured)
    end
    local transfer = tvb(4, 4):uint()
    if #offsets > 1 then
        top:set_text(string.format("File-transfer lab protocol (UDP), %d data datagrams (GSO), transfer=%d",
                                   #offsets, transfer))
        set_info(pinfo, state, string.format("Data x%d transfer=%d %s", #offsets, transfer, table.concat(texts, " ")))
    else
        set_info(pinfo, state, string.format("Data transfer=%d %s len=%d", transfer, texts[1], total - HEADER_SIZE))
    end
    return total
end

local function dissect_udp(tvb, pinfo, tree)
    local total = tvb:reported_len()
    local caplen = tvb:len()
    pinfo.cols.protocol = "FILELAB-UDP"
    local state = { first = true }
    if caplen < 1 then return 0 end
    local b0 = tvb(0, 1):uint()
    if b0 == DATA_TYPE and caplen >= HEADER_SIZE then
        return dissect_data(tvb, pinfo, tree, state)
    end
    if b0 < 65 or b0 > 90 then
        local st = tree:add(p, tvb(0, caplen), "File-transfer lab protocol (UDP), unknown datagram")
        st:add_proto_expert_info(E.unknown_datagram, "first byte 0x" .. string.format("%02x", b0) ..
                                 " is neither an uppercase letter (control) nor 0xD1 (data)")
        set_info(pinfo, state, "[unknown datagram]")
        return total
    end
    local nl = find_newline(tvb, 0, math.min(caplen, MAX_LINE))
    local linelen = nl or math.min(caplen, MAX_LINE)
    local body = linelen
    if body > 0 and tvb(body - 1, 1):uint() == 13 then body = body - 1 end
    local st = tree:add(p, tvb(0, nl and (nl + 1) or linelen))
    local lr = tvb(0, body)
    local parts, values, text = dissect_line(lr, lr:string(), pinfo, st, UDP_VERBS, "udp", not nl and caplen < total)
    st:append_text(" (UDP), " .. (parts.verb or "?"))
    if not nl then
        if caplen < total then
            st:add_proto_expert_info(E.truncated, "control line cut short by the capture's snapshot length")
        else
            st:add_proto_expert_info(E.malformed, "control datagram without a newline")
        end
    end
    local after = nl and (nl + 1) or linelen
    if after < caplen then
        st:add(F.padding, tvb(after, caplen - after)):append_text(string.format(" (%d bytes)", total - after))
    end
    if total > MAX_LINE and parts.verb ~= nil then
        st:add_proto_expert_info(E.malformed, string.format("control datagram of %d bytes (limit %d)", total, MAX_LINE))
    end
    -- remember what FILE announces, for the data datagrams of that transfer
    if parts.verb == "FILE" and type(values.transfer) == "number" and not pinfo.visited then
        local t = transfers[values.transfer]
        if not t or t.frame >= pinfo.number then
            transfers[values.transfer] = {
                chunk = type(values.chunk) == "number" and values.chunk > 0 and values.chunk or nil,
                size = type(values.size) == "number" and values.size or nil,
                name = values.name, frame = pinfo.number,
            }
        end
    end
    set_info(pinfo, state, text)
    return total
end

-- ---------------------------------------------------------------------------------- entry points
function p.dissector(tvb, pinfo, tree)
    if pinfo.port_type == PT_TCP then
        return dissect_tcp(tvb, pinfo, tree)
    end
    return dissect_udp(tvb, pinfo, tree)
end

local function first_line(tvb)
    local caplen = tvb:len()
    local nl = find_newline(tvb, 0, math.min(caplen, MAX_LINE))
    if not nl then return nil end
    local body = nl
    if body > 0 and tvb(body - 1, 1):uint() == 13 then body = body - 1 end
    if body == 0 then return nil end
    return tvb(0, body):string(), nl
end

local function heur_tcp(tvb, pinfo, tree)
    if tvb:len() < 5 then return false end
    local b0 = tvb(0, 1):uint()
    if b0 < 65 or b0 > 90 then return false end
    local line = first_line(tvb)
    if not line or not line_is_ours(line, TCP_VERBS, false) then return false end
    pinfo.conversation = p
    dissect_tcp(tvb, pinfo, tree)
    return true
end

local function heur_udp(tvb, pinfo, tree)
    local caplen = tvb:len()
    if caplen < 4 then return false end
    local b0 = tvb(0, 1):uint()
    if b0 == DATA_TYPE then
        if caplen < HEADER_SIZE or tvb(1, 1):uint() ~= 1 then return false end
        local flags = tvb(2, 2):uint()
        if flags > 1 then return false end
        -- a transfer id announced by a FILE, or a datagram at least as big as the smallest chunk size
        if not transfers[tvb(4, 4):uint()] and tvb:reported_len() < MIN_DATAGRAM then return false end
        dissect_udp(tvb, pinfo, tree)
        return true
    end
    if b0 < 65 or b0 > 90 then return false end
    local line, nl = first_line(tvb)
    if not line or nl + 1 ~= tvb:reported_len() then
        -- one line per datagram; allow zero padding after it (see PROTOCOL.md) but nothing else
        if not line then return false end
        local rest = tvb:raw(nl + 1, caplen - nl - 1)
        if rest:find("[^%z]") then return false end
    end
    if not line_is_ours(line, UDP_VERBS, true) then return false end
    pinfo.conversation = p
    dissect_udp(tvb, pinfo, tree)
    return true
end

p:register_heuristic("tcp", heur_tcp)
p:register_heuristic("udp", heur_udp)

local registered = { tcp = 0, udp = 0 }
local function register_ports()
    local tcp_table = DissectorTable.get("tcp.port")
    local udp_table = DissectorTable.get("udp.port")
    if registered.tcp ~= 0 then tcp_table:remove(registered.tcp, p) end
    if registered.udp ~= 0 then udp_table:remove(registered.udp, p) end
    registered.tcp, registered.udp = p.prefs.tcp_port, p.prefs.udp_port
    if registered.tcp ~= 0 then tcp_table:add(registered.tcp, p) end
    if registered.udp ~= 0 then udp_table:add(registered.udp, p) end
end

function p.prefs_changed()
    register_ports()
end

register_ports()
