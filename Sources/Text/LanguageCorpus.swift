#if canImport(Glibc)
import Glibc
#endif

/// The three splits of a language-modelling corpus as token ids, with the vocabulary.
public struct LanguageCorpus: Sendable {
    public let level: TextLevel
    public let vocabulary: Vocabulary
    public let train: [Int32]
    public let valid: [Int32]
    public let test: [Int32]?
    public let files: [String]

    /// Files of a split in Mikolov's layout under `directory`, checked to exist.
    public static func standardFile(directory: String, level: TextLevel, split: String) throws -> String {
        guard let name = level.standardFileName(split) else {
            throw TextError(file: directory, problem: "the text level has no standard file names; give --train/--valid/--test files")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else { throw TextError(file: directory, problem: "no such directory") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw TextError(file: directory, problem: "not a directory") }
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        guard access(path, F_OK) == 0 else {
            let expected = ["train", "valid", "test"].compactMap { level.standardFileName($0) }.joined(separator: ", ")
            throw TextError(file: directory, problem: "missing \(name): a \(level.rawValue)-level corpus directory holds \(expected) (Mikolov's PTB layout)")
        }
        return path
    }

    /// Reads a corpus in Mikolov's layout (ptb.train.txt … or ptb.char.train.txt …).
    public static func load(directory: String, level: TextLevel) throws -> LanguageCorpus {
        let files = try ["train", "valid", "test"].map { try standardFile(directory: directory, level: level, split: $0) }
        return try load(train: files[0], valid: files[1], test: files[2], level: level)
    }

    /// Reads the given files; the vocabulary is built from all of them (as pytorch/examples does).
    public static func load(train: String, valid: String, test: String?, level: TextLevel) throws -> LanguageCorpus {
        let paths = [train, valid] + (test.map { [$0] } ?? [])
        let tokenLists = try paths.map { path -> [String] in
            let tokens = tokenize(try readTextFile(path), level: level)
            guard tokens.count >= 2 else { throw TextError(file: path, problem: "has fewer than 2 tokens") }
            return tokens
        }
        let vocabulary = Vocabulary(building: tokenLists)
        guard vocabulary.count >= 2 else { throw TextError(file: train, problem: "the corpus has fewer than 2 distinct tokens") }
        let ids = try zip(tokenLists, paths).map { try vocabulary.encode($0, file: $1) }
        return LanguageCorpus(level: level, vocabulary: vocabulary, train: ids[0], valid: ids[1], test: ids.count > 2 ? ids[2] : nil, files: paths)
    }

    /// Reads one file with an existing vocabulary (evaluation of a trained model).
    public static func encode(file: String, level: TextLevel, vocabulary: Vocabulary) throws -> [Int32] {
        let tokens = tokenize(try readTextFile(file), level: level)
        guard !tokens.isEmpty else { throw TextError(file: file, problem: "has no tokens") }
        return try vocabulary.encode(tokens, file: file)
    }
}
