#pragma once

#include "Canvas.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// A few lines a conversation window shows above its lines until they are
/// dismissed: /help, /whoami, the fingerprints /verify brings, what /trust did.
class InfoPanel
{
public:
    /// Shows title and lines in place of whatever the panel showed.
    void show(std::string title, std::vector<std::string> lines);
    void clear();
    bool shown() const { return !_title.empty(); }
    const std::string& title() const { return _title; }

    /// Draws the title on a row of its own, then the lines wrapped at the
    /// canvas's width and a blank row, in rows top .. top + maxRows - 1;
    /// returns the rows it took.
    int draw(Canvas& canvas, int top, int maxRows) const;

private:
    std::string _title;
    std::vector<std::string> _lines;
};

} // namespace peerchat::chatui
