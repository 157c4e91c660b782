/// How a text file becomes tokens.
public enum TextLevel: String, Codable, Sendable, CaseIterable {
    /// Mikolov's PTB word files: whitespace-separated words, `<eos>` after every line.
    case word
    /// Mikolov's PTB char files (`ptb.char.*.txt`): space-separated characters, `_` between
    /// words, `<eos>` after every line.
    case char
    /// Any UTF-8 text: every character (grapheme) is a token, the line break included.
    case text

    /// Perplexity for words; bits per character for the character levels.
    public var metricName: String { self == .word ? "perplexity" : "bpc" }

    /// File names of the Mikolov layout for a split ("train", "valid", "test").
    public func standardFileName(_ split: String) -> String? {
        switch self {
        case .word: return "ptb.\(split).txt"
        case .char: return "ptb.char.\(split).txt"
        case .text: return nil
        }
    }
}

/// The end-of-sentence token appended to each line at the word and PTB-char levels.
public let endOfSentence = "<eos>"
/// The unknown-word token of the PTB files; tokens outside a vocabulary map to it when present.
public let unknownToken = "<unk>"

/// Splits text into tokens at `level`. Lines are separated by "\n" (a "\r\n" ending counts as one).
///
///     word:  " the cat sat \n a dog \n"  →  the cat sat <eos> a dog <eos>
///     char:  " t h e _ c a t \n"          →  t h e _ c a t <eos>
///     text:  "hi\nyo"                     →  h i \n y o
///
/// Empty lines still produce `<eos>` at the word/char levels (as pytorch/examples does).
public func tokenize(_ text: String, level: TextLevel) -> [String] {
    switch level {
    case .word, .char:
        var tokens: [String] = []
        // "\r\n" is a single Character in Swift, so it is matched as a line end of its own.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }   // the final newline ends the last line
        for line in lines {
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) { tokens.append(String(token)) }
            tokens.append(endOfSentence)
        }
        return tokens
    case .text:
        return text.map { String($0) }
    }
}

/// Joins sampled tokens back into readable text: at the word level `<eos>` becomes a line break;
/// at the PTB-char level `_` becomes a space and `<eos>` a line break; text tokens are concatenated.
public func detokenize(_ tokens: [String], level: TextLevel) -> String {
    switch level {
    case .word:
        var out = ""
        var atLineStart = true
        for t in tokens {
            if t == endOfSentence { out += "\n"; atLineStart = true; continue }
            if !atLineStart { out += " " }
            out += t
            atLineStart = false
        }
        return out
    case .char:
        return tokens.map { $0 == endOfSentence ? "\n" : $0 == "_" ? " " : $0 }.joined()
    case .text:
        return tokens.joined()
    }
}
