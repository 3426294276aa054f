package io.sluice.rules.model;

/** An invalid rule or prefix: names the field and the reason. Nothing is changed when it is thrown. */
public final class RuleValidationException extends IllegalArgumentException {
    private final String field;
    private final String reason;

    /** Creates the error. */
    public RuleValidationException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
        this.reason = reason;
    }

    /** The offending field. */
    public String field() { return field; }
    /** Why it is invalid. */
    public String reason() { return reason; }
}
