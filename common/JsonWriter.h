#pragma once

#include <algorithm>
#include <charconv>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace peerchat {

/// Writes JSON text straight into a string, as Poco::JSON's stringify writes
/// it (no spaces; keys in the order written; in strings, bytes below 0x20,
/// '"' and '\\' escaped, the rest, UTF-8 included, as they are), without
/// building a tree of Poco::Dynamic::Var first: the local socket's events are
/// on the path of every chat line.
class JsonWriter
{
public:
    /// Writes after what out holds, up to endLine(): a caller that keeps out
    /// from one line to the next writes without allocating.
    explicit JsonWriter(std::string& out) : _out(out), _size(out.size())
    {
        // Room for a whole event of a chat line from the start: growing the
        // string as it is written cost a third of the time of writing one.
        _out.resize(_size + 256);
    }
    JsonWriter(const JsonWriter&) = delete;
    JsonWriter& operator=(const JsonWriter&) = delete;

    void beginObject() { open('{'); }
    void endObject() { close('}'); }
    void beginArray() { open('['); }
    void endArray() { close(']'); }
    /// The key of the next value in the open object.
    void key(std::string_view name);
    /// A key written in the code, a string literal: copied as it is, without
    /// looking at each byte for one to escape, so it must not hold a quote,
    /// a backslash nor a control byte (the names of the local protocol's
    /// fields). Keys made at run time go through key(std::string_view).
    /// Inline, with its length known here: most of an event's keys are
    /// these, and the call and a memcpy of a length known only at run time
    /// cost more than the few bytes copied.
    template <std::size_t N>
    void key(const char (&name)[N])
    {
        separate();
        char* out = room(N + 2);
        *out++ = '"';
        std::memcpy(out, name, N - 1);
        out += N - 1;
        *out++ = '"';
        *out++ = ':';
        _size = static_cast<std::size_t>(out - _out.data());
        _afterKey = true;
    }

    void value(std::string_view text);
    void value(const std::string& text) { value(std::string_view(text)); }
    void value(const char* text) { value(std::string_view(text)); }
    void value(bool flag);
    template <typename Integer, std::enable_if_t<std::is_integral_v<Integer>, int> = 0>
    void value(Integer number)
    {
        separate();
        char* at = room(kMostDigits);
        _size = static_cast<std::size_t>(std::to_chars(at, at + kMostDigits, number).ptr - _out.data());
    }

    /// key and value in one (a literal name goes to the literal key()).
    template <typename Name, typename Value>
    void field(const Name& name, const Value& v)
    {
        key(name);
        value(v);
    }

    /// Ends the text with a newline; the string written into holds it and nothing after it.
    void endLine();

    /// How deep objects and arrays may nest.
    static constexpr unsigned kMostDepth = 64;

private:
    /// A 64-bit integer's digits and sign.
    static constexpr std::size_t kMostDigits = 21;

    void open(char bracket);
    void close(char bracket);
    /// A comma before every value of an object or array but its first.
    void separate()
    {
        if (_afterKey) {
            _afterKey = false;
            return;
        }
        if (_depth == 0) return;
        const std::uint64_t bit = std::uint64_t{1} << (_depth - 1);
        if (_filled & bit) put(',');
        _filled |= bit;
    }
    void quoted(std::string_view text);
    /// Where the next bytes go, with room for bytes of them; _size does not move.
    char* room(std::size_t bytes)
    {
        if (_out.size() - _size < bytes) _out.resize(std::max(_out.size() * 2, _size + bytes));
        return _out.data() + _size;
    }
    void put(char c)
    {
        *room(1) = c;
        ++_size;
    }
    void put(std::string_view text);

    /// The text is written by pointer into a string kept longer than it (_size
    /// bytes of it are the text): an append per character or field cost more
    /// than the characters themselves.
    std::string& _out;
    std::size_t _size;
    std::uint64_t _filled = 0;  ///< bit n: the object or array open at depth n has something in it
    unsigned _depth = 0;        ///< objects and arrays open
    bool _afterKey = false;
};

} // namespace peerchat
