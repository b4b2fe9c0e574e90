#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace peerchat {

/// Writes JSON text straight into a string, as Poco::JSON's stringify writes
/// it (no spaces; keys in the order written; in strings, bytes below 0x20,
/// '"' and '\\' escaped, the rest, UTF-8 included, as they are), without
/// building a tree of Poco::Dynamic::Var first: the local socket's events are
/// on the path of every chat line.
class JsonWriter
{
public:
    /// Room for a whole event of a chat line from the start: growing the
    /// string as it is written cost a third of the time of writing one.
    JsonWriter() { _out.reserve(256); }

    void beginObject() { open('{'); }
    void endObject() { close('}'); }
    void beginArray() { open('['); }
    void endArray() { close(']'); }
    /// The key of the next value in the open object.
    void key(std::string_view name);

    void value(std::string_view text);
    void value(const std::string& text) { value(std::string_view(text)); }
    void value(const char* text) { value(std::string_view(text)); }
    void value(bool flag);
    template <typename Integer, std::enable_if_t<std::is_integral_v<Integer>, int> = 0>
    void value(Integer number)
    {
        separate();
        _out += std::to_string(number);
    }

    /// key and value in one.
    template <typename Value>
    void field(std::string_view name, const Value& v)
    {
        key(name);
        value(v);
    }

    /// The text written, with a newline after it.
    std::string line() &&;

private:
    void open(char bracket);
    void close(char bracket);
    /// A comma before every value of an object or array but its first.
    void separate();
    void quoted(std::string_view text);

    std::string _out;
    std::vector<bool> _empty;  ///< per open object or array: nothing in it yet
    bool _afterKey = false;
};

} // namespace peerchat
