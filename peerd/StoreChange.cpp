#include "StoreChange.h"

#include <cstring>
#include <type_traits>

namespace peerchat {

namespace store {
namespace {

// The fields of each operation, in their order on disk: one list serves both
// writing (O const) and reading, so the two cannot drift apart.
template <typename O, typename F>
void fields(O& o, F&& f)
{
    using T = std::remove_const_t<O>;
    if constexpr (std::is_same_v<T, PutLine>) {
        f(o.peer, o.id, o.outgoing, o.from, o.sentTime, o.receivedAtMs, o.text, o.state, o.verified, o.key);
    } else if constexpr (std::is_same_v<T, PutConversation>) {
        f(o.peer, o.lastId, o.unread);
    } else if constexpr (std::is_same_v<T, TrimLines>) {
        f(o.peer, o.upTo);
    } else if constexpr (std::is_same_v<T, PutOutgoingStream>) {
        f(o.peer, o.stream, o.lastSeq);
    } else if constexpr (std::is_same_v<T, PutOutbox>) {
        f(o.peer, o.lineId, o.stream, o.seq, o.sentTime, o.text);
    } else if constexpr (std::is_same_v<T, MoveOutbox>) {
        f(o.peer, o.lineId, o.stream, o.seq);
    } else if constexpr (std::is_same_v<T, DropOutbox>) {
        f(o.peer, o.stream, o.upTo);
    } else if constexpr (std::is_same_v<T, SetLineState>) {
        f(o.peer, o.id, o.state);
    } else if constexpr (std::is_same_v<T, PutIncomingStream>) {
        f(o.sender, o.stream, o.delivered);
    } else if constexpr (std::is_same_v<T, PutKeyPin>) {
        f(o.name, o.pinned, o.offered, o.keyless);
    } else if constexpr (std::is_same_v<T, PutIndexKey>) {
        f(o.endpoint, o.key);
    } else if constexpr (std::is_same_v<T, SetLineStates>) {
        f(o.peer, o.firstId, o.lastId, o.state);
    } else if constexpr (std::is_same_v<T, DropAckedOutbox>) {
        f(o.peer, o.stream, o.upTo, o.lastLineId);
    } else if constexpr (std::is_same_v<T, MarkDelivered>) {
        f(o.peer, o.lineId);
    } else if constexpr (std::is_same_v<T, TrimUnqueued>) {
        f(o.peer, o.upTo, o.delivered);
    } else if constexpr (std::is_same_v<T, PutContact>) {
        f(o.name, o.relation, o.blocked, o.note, o.sinceMs, o.inStream, o.inSeq, o.outKind, o.outSeq, o.outPending);
    } else if constexpr (std::is_same_v<T, PutSetting>) {
        f(o.key, o.value);
    } else {
        static_assert(std::is_same_v<T, PutGroup>, "every operation lists its fields");
        f(o.id, o.membership);
    }
}

// Writes into room sized for the most bytes the values can take (most()),
// a store per byte: appending to the string checked its capacity at each.
class Writer
{
public:
    explicit Writer(char* at) : _at(at) {}

    /// Where the next byte goes.
    char* at() const { return _at; }

    /// The most bytes put() writes for a value.
    static std::size_t most(std::string_view value) { return most(std::uint64_t{}) + value.size(); }
    static std::size_t most(const std::string& value) { return most(std::string_view(value)); }
    static std::size_t most(const std::optional<std::string>& value) { return 1 + (value ? most(*value) : 0); }
    static std::size_t most(bool) { return 1; }
    static std::size_t most(std::int64_t) { return most(std::uint64_t{}); }
    static std::size_t most(std::uint64_t) { return 10; }

    void put(std::string_view value)
    {
        put(static_cast<std::uint64_t>(value.size()));
        // An empty view may have no data at all, which memcpy must not be given.
        if (value.empty()) return;
        std::memcpy(_at, value.data(), value.size());
        _at += value.size();
    }
    void put(const std::string& value) { put(std::string_view(value)); }
    void put(const std::optional<std::string>& value)
    {
        put(value.has_value());
        if (value) put(*value);
    }
    void put(bool value) { *_at++ = value ? 1 : 0; }
    void put(std::int64_t value) { put(static_cast<std::uint64_t>(value)); }
    // Little-endian base 128: most numbers here are small.
    void put(std::uint64_t value)
    {
        while (value >= 0x80) {
            *_at++ = static_cast<char>((value & 0x7f) | 0x80);
            value >>= 7;
        }
        *_at++ = static_cast<char>(value);
    }

private:
    char* _at;
};

class Reader
{
public:
    explicit Reader(std::string_view in) : _in(in) {}

    bool ok() const { return _ok; }
    bool done() const { return _at == _in.size(); }

    void get(std::string_view& value)
    {
        std::uint64_t size = 0;
        get(size);
        if (!_ok || size > _in.size() - _at) {
            _ok = false;
            return;
        }
        value = _in.substr(_at, static_cast<std::size_t>(size));
        _at += static_cast<std::size_t>(size);
    }
    void get(std::string& value)
    {
        std::string_view view;
        get(view);
        value.assign(view);
    }
    void get(std::optional<std::string>& value)
    {
        bool present = false;
        get(present);
        if (!present) return;
        get(value.emplace());
    }
    void get(bool& value)
    {
        const int byte = next();
        if (byte > 1) _ok = false;
        value = byte == 1;
    }
    void get(std::int64_t& value)
    {
        std::uint64_t bits = 0;
        get(bits);
        value = static_cast<std::int64_t>(bits);
    }
    void get(std::uint64_t& value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const int byte = next();
            if (byte < 0) return;
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return;
        }
        _ok = false;
    }

private:
    // The next byte, or -1 (and not ok) past the end.
    int next()
    {
        if (_at == _in.size()) {
            _ok = false;
            return -1;
        }
        return static_cast<unsigned char>(_in[_at++]);
    }

    std::string_view _in;
    std::size_t _at = 0;
    bool _ok = true;
};

// Reads the operation with tag index into change, when tag names one.
template <std::size_t I = 0>
void readOp(std::size_t tag, Reader& reader, StoreChange& change)
{
    if constexpr (I < std::variant_size_v<Op>) {
        if (tag != I) return readOp<I + 1>(tag, reader, change);
        std::variant_alternative_t<I, Op> op;
        fields(op, [&](auto&... field) { (reader.get(field), ...); });
        change.emplace_back(std::move(op));
    }
}

} // namespace
} // namespace store

std::string StoreChangeCodec::encode(const StoreChange& change)
{
    std::string out;
    encode(change, out);
    return out;
}

void StoreChangeCodec::encode(const StoreChange& change, std::string& out)
{
    // Sized first: the bytes are then written a field at a time into room that holds them.
    std::size_t most = 0;
    for (const store::Op& op : change) {
        most += store::Writer::most(std::uint64_t{});
        std::visit(
            [&](const auto& alternative) {
                store::fields(alternative, [&](const auto&... field) { most += (store::Writer::most(field) + ...); });
            },
            op);
    }
    out.clear();
    out.resize(most);
    store::Writer writer(out.data());
    for (const store::Op& op : change) {
        writer.put(static_cast<std::uint64_t>(op.index()));
        std::visit(
            [&](const auto& alternative) {
                store::fields(alternative, [&](const auto&... field) { (writer.put(field), ...); });
            },
            op);
    }
    out.resize(static_cast<std::size_t>(writer.at() - out.data()));
}

Parsed<StoreChange> StoreChangeCodec::decode(std::string_view bytes)
{
    StoreChange change;
    // Room for a queued line's operations, the most a change of the hot path has.
    change.reserve(5);
    const Parsed<std::size_t> read = decode(bytes, change);
    if (!read) return Parsed<StoreChange>::refuse(read.error());
    return change;
}

Parsed<std::size_t> StoreChangeCodec::decode(std::string_view bytes, StoreChange& change)
{
    change.clear();
    store::Reader reader(bytes);
    while (reader.ok() && !reader.done()) {
        std::uint64_t tag = 0;
        reader.get(tag);
        if (!reader.ok() || tag >= std::variant_size_v<store::Op>)
            return Parsed<std::size_t>::refuse("a change of an unknown kind");
        store::readOp(static_cast<std::size_t>(tag), reader, change);
    }
    if (!reader.ok()) return Parsed<std::size_t>::refuse("a change cut short or damaged");
    return change.size();
}

} // namespace peerchat
