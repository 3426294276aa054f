package io.sluice.rules.classbench;

/** A ClassBench rule or trace line that cannot be read; names the file, line and field. */
public final class ClassBenchFormatException extends Exception {
    private final String file;
    private final int line;
    private final String field;

    /** Creates the error; {@code line} is 1-based. */
    public ClassBenchFormatException(String file, int line, String field, String reason) {
        super(file + ":" + line + ": field " + field + ": " + reason);
        this.file = file;
        this.line = line;
        this.field = field;
    }

    /** File name. */
    public String file() { return file; }
    /** 1-based line number. */
    public int line() { return line; }
    /** Offending field. */
    public String field() { return field; }
}
