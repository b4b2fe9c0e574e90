#include "FlatJson.h"

#include <algorithm>
#include <cstring>

namespace peerchat {

namespace {

/// A cursor over the text; every read returns false where the text is not
/// what a flat object of strings would hold there.
class Reader
{
public:
    Reader(std::string_view text, FlatObject& object) : _text(text), _object(object) {}

    void skipSpace()
    {
        while (_at < _text.size() && (_text[_at] == ' ' || _text[_at] == '\t' || _text[_at] == '\n' || _text[_at] == '\r'))
            ++_at;
    }

    bool take(char c)
    {
        skipSpace();
        if (_at >= _text.size() || _text[_at] != c) return false;
        ++_at;
        return true;
    }

    bool atEnd()
    {
        skipSpace();
        return _at == _text.size();
    }

    /// A string: a view of the text when it holds no escape, else of its unescaped copy.
    bool string(std::string_view& out)
    {
        if (!take('"')) return false;
        const std::size_t start = _at;
        plainRun();
        if (_at >= _text.size()) return false;
        if (_text[_at] == '"') {
            out = _text.substr(start, _at++ - start);
            return true;
        }
        if (!_object.unescaped) _object.unescaped = std::make_unique<char[]>(_text.size());
        char* const begin = _object.unescaped.get() + _used;
        char* end = begin;
        std::size_t from = start;
        while (true) {
            std::memcpy(end, _text.data() + from, _at - from);
            end += _at - from;
            if (_at >= _text.size()) return false;
            const char c = _text[_at++];
            if (c == '"') break;
            if (c != '\\' || !escape(end)) return false;
            from = _at;
            plainRun();
        }
        _used += static_cast<std::size_t>(end - begin);
        out = std::string_view(begin, static_cast<std::size_t>(end - begin));
        return true;
    }

private:
    /// Moves past bytes that stand for themselves: up to a quote, an escape or a control character.
    void plainRun()
    {
        while (_at < _text.size() && _text[_at] != '"' && _text[_at] != '\\' &&
               static_cast<unsigned char>(_text[_at]) >= 0x20)
            ++_at;
    }

    // An escape writes at most as many bytes as it takes in the text.
    bool escape(char*& out)
    {
        if (_at >= _text.size()) return false;
        switch (_text[_at++]) {
        case '"': *out++ = '"'; return true;
        case '\\': *out++ = '\\'; return true;
        case '/': *out++ = '/'; return true;
        case 'b': *out++ = '\b'; return true;
        case 'f': *out++ = '\f'; return true;
        case 'n': *out++ = '\n'; return true;
        case 'r': *out++ = '\r'; return true;
        case 't': *out++ = '\t'; return true;
        case 'u': return codePoint(out);
        default: return false;
        }
    }

    // \uXXXX of the Basic Multilingual Plane, as UTF-8; a surrogate (half of
    // a pair, or alone) is left to the full parser.
    bool codePoint(char*& out)
    {
        if (_text.size() - _at < 4) return false;
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = _text[_at++];
            value <<= 4;
            if (c >= '0' && c <= '9') {
                value |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                value |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                value |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        if (value >= 0xD800 && value <= 0xDFFF) return false;
        if (value < 0x80) {
            *out++ = static_cast<char>(value);
        } else if (value < 0x800) {
            *out++ = static_cast<char>(0xC0 | (value >> 6));
            *out++ = static_cast<char>(0x80 | (value & 0x3F));
        } else {
            *out++ = static_cast<char>(0xE0 | (value >> 12));
            *out++ = static_cast<char>(0x80 | ((value >> 6) & 0x3F));
            *out++ = static_cast<char>(0x80 | (value & 0x3F));
        }
        return true;
    }

    std::string_view _text;
    FlatObject& _object;
    std::size_t _at = 0;
    std::size_t _used = 0;  ///< bytes of the object's unescaped copy taken
};

} // namespace

const std::string_view* FlatObject::find(std::string_view key) const
{
    const auto last = std::find_if(fields.rbegin(), fields.rend(), [&](const auto& field) { return field.first == key; });
    return last == fields.rend() ? nullptr : &last->second;
}

std::optional<FlatObject> FlatJson::parse(std::string_view text)
{
    std::optional<FlatObject> object(std::in_place);
    Reader reader(text, *object);
    // Room for a send's fields (op, to, text, key): growing the vector cost a fifth of parsing one.
    object->fields.reserve(4);
    if (!reader.take('{')) return std::nullopt;
    if (!reader.take('}')) {
        do {
            auto& field = object->fields.emplace_back();
            if (!reader.string(field.first) || !reader.take(':') || !reader.string(field.second)) return std::nullopt;
        } while (reader.take(','));
        if (!reader.take('}')) return std::nullopt;
    }
    if (!reader.atEnd()) return std::nullopt;
    return object;
}

} // namespace peerchat
