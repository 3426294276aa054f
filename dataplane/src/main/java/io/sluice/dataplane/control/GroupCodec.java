package io.sluice.dataplane.control;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.overlay.Net;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.model.SgRule;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JSON documents of the control API, decoded strictly (unknown fields, wrong types, duplicate
 * keys, trailing data: 400 naming the field path) and encoded back. Control path only.
 *
 * <p>A security group document:
 * <pre>
 * {"description":"…","on_rule_change":"keep"|"cut",
 *  "inbound_rules":[{"description":"…","protocol":"tcp"|"udp"|"icmp"|"icmpv6"|"all","port":22 | "port_range":"8000-8100",
 *                    "icmp_type":8,"icmp_code":0,"source_cidr":"0.0.0.0/0" | "source_group":"web"}],
 *  "outbound_rules":[… "destination_cidr" | "destination_group" …]}
 * </pre>
 */
public final class GroupCodec {
    /** Rules per direction of one group. */
    public static final int MAX_RULES = 1000;
    /** Characters of a description. */
    public static final int MAX_DESCRIPTION = 255;
    /** Groups of one VM (the AWS default). */
    public static final int MAX_GROUPS_PER_VM = 5;
    /** A group's or VM's name. */
    public static final String NAME = "[A-Za-z0-9_.-]{1,64}";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Set<String> GROUP_FIELDS = Set.of("description", "on_rule_change", "inbound_rules", "outbound_rules");
    private static final Set<String> IN_FIELDS = Set.of("description", "protocol", "port", "port_range", "icmp_type", "icmp_code",
            "source_cidr", "source_group");
    private static final Set<String> OUT_FIELDS = Set.of("description", "protocol", "port", "port_range", "icmp_type", "icmp_code",
            "destination_cidr", "destination_group");
    private static final Set<String> MEMBERSHIP_FIELDS = Set.of("groups");

    private GroupCodec() {}

    /** A decoded rule: what the firewall uses, with the description the API returns. */
    public record Rule(SgRule rule, String description) {}

    /**
     * A decoded security group of one project.
     *
     * @param name        the group's name in its project (e.g. {@code web})
     * @param description may be empty
     * @param cut         {@code on_rule_change: cut}
     * @param inbound     ingress rules, ids {@code project:name/in<i>}
     * @param outbound    egress rules, ids {@code project:name/out<i>}
     * @param groupRefs   the project's group names the rules name ({@code source_group} / {@code destination_group}), by field path
     */
    public record Group(String name, String description, boolean cut, List<Rule> inbound, List<Rule> outbound, Map<String, String> groupRefs) {
        public Group {
            inbound = List.copyOf(inbound);
            outbound = List.copyOf(outbound);
            groupRefs = Map.copyOf(groupRefs);
        }

        public List<SgRule> rules() {
            List<SgRule> out = new ArrayList<>(inbound.size() + outbound.size());
            for (Rule r : inbound) out.add(r.rule());
            for (Rule r : outbound) out.add(r.rule());
            return out;
        }
    }

    /** Parses a request body as one JSON value; 400 {@code body: …} when it is not. */
    public static JsonNode parse(byte[] body) throws ApiException {
        if (body.length == 0) throw ApiException.invalid("body", "empty; a JSON object is needed");
        try (JsonParser p = JSON.createParser(body)) {
            JsonNode n = JSON.readTree(p);
            if (n == null || n.isMissingNode()) throw ApiException.invalid("body", "empty; a JSON object is needed");
            return n;
        } catch (StreamConstraintsException e) {
            throw ApiException.invalid("body", "too deeply nested or too long a value");
        } catch (IOException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int cut = m.indexOf('\n');
            throw ApiException.invalid("body", "not valid JSON: " + (cut > 0 ? m.substring(0, cut) : m));
        }
    }

    /**
     * Decodes a security-group document of {@code project}.
     *
     * @throws ApiException 400 naming the field path
     */
    public static Group decodeGroup(String project, String name, JsonNode doc) throws ApiException {
        ObjectNode o = object(doc, "body");
        fields(o, "", GROUP_FIELDS);
        String desc = description(o, "description");
        boolean cut = false;
        if (o.has("on_rule_change")) {
            String v = text(o.get("on_rule_change"), "on_rule_change");
            if (v.equals("cut")) cut = true;
            else if (!v.equals("keep")) throw ApiException.invalid("on_rule_change", "'" + clip(v) + "' is not keep or cut");
        }
        Map<String, String> refs = new java.util.LinkedHashMap<>();
        List<Rule> in = rules(project, name, o, "inbound_rules", Direction.INGRESS, refs);
        List<Rule> out = rules(project, name, o, "outbound_rules", Direction.EGRESS, refs);
        return new Group(name, desc, cut, in, out, refs);
    }

    /** Decodes {@code {"groups":["default","web"]}}: distinct names, at most {@value #MAX_GROUPS_PER_VM}. */
    public static List<String> decodeMembership(JsonNode doc) throws ApiException {
        ObjectNode o = object(doc, "body");
        fields(o, "", MEMBERSHIP_FIELDS);
        if (!o.has("groups")) throw ApiException.invalid("groups", "missing (a list of group names)");
        JsonNode a = o.get("groups");
        if (!a.isArray()) throw ApiException.invalid("groups", "must be a list of group names");
        if (a.size() > MAX_GROUPS_PER_VM) throw ApiException.invalid("groups", "at most " + MAX_GROUPS_PER_VM + " groups per VM, got " + a.size());
        List<String> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            String g = text(a.get(i), "groups[" + i + "]");
            if (!g.matches(NAME)) throw ApiException.invalid("groups[" + i + "]", "'" + clip(g) + "' is not 1-64 of [A-Za-z0-9_.-]");
            if (out.contains(g)) throw ApiException.invalid("groups[" + i + "]", "group '" + g + "' listed twice");
            out.add(g);
        }
        return out;
    }

    private static List<Rule> rules(String project, String group, ObjectNode o, String field, Direction dir, Map<String, String> refs)
            throws ApiException {
        List<Rule> out = new ArrayList<>();
        if (!o.has(field)) return out;
        JsonNode a = o.get(field);
        if (!a.isArray()) throw ApiException.invalid(field, "must be a list of rules");
        if (a.size() > MAX_RULES) throw ApiException.invalid(field, "at most " + MAX_RULES + " rules, got " + a.size());
        boolean in = dir == Direction.INGRESS;
        String cidrField = in ? "source_cidr" : "destination_cidr";
        String groupField = in ? "source_group" : "destination_group";
        for (int i = 0; i < a.size(); i++) {
            String path = field + "[" + i + "]";
            ObjectNode r = object(a.get(i), path);
            fields(r, path + ".", in ? IN_FIELDS : OUT_FIELDS);
            String desc = description(r, path + ".description");
            int proto = Protocols.ANY;
            if (r.has("protocol")) {
                String p = text(r.get("protocol"), path + ".protocol");
                proto = switch (p) {
                    case "tcp" -> Protocols.TCP;
                    case "udp" -> Protocols.UDP;
                    case "icmp" -> Protocols.ICMP;
                    case "icmpv6" -> Protocols.ICMPV6;
                    case "all" -> Protocols.ANY;
                    default -> throw ApiException.invalid(path + ".protocol", "'" + clip(p) + "' is not tcp, udp, icmp, icmpv6 or all");
                };
            }
            int pmin = 0;
            int pmax = 0;
            if (r.has("port") && r.has("port_range")) throw ApiException.invalid(path + ".port_range", "give port or port_range, not both");
            if (r.has("port")) {
                pmin = pmax = port(r.get("port"), path + ".port");
            } else if (r.has("port_range")) {
                String s = text(r.get("port_range"), path + ".port_range");
                String[] ab = s.split("-", -1);
                if (ab.length != 2) throw ApiException.invalid(path + ".port_range", "'" + clip(s) + "' is not a range like 8000-8100");
                pmin = port(ab[0], path + ".port_range");
                pmax = port(ab[1], path + ".port_range");
                if (pmin > pmax) throw ApiException.invalid(path + ".port_range", "reversed range " + s);
            }
            if ((pmin != 0) && !Protocols.hasPorts(proto)) {
                throw ApiException.invalid(path + (r.has("port") ? ".port" : ".port_range"), "ports need protocol tcp or udp");
            }
            int itype = -1;
            int icode = -1;
            if (r.has("icmp_type")) itype = intIn(r.get("icmp_type"), path + ".icmp_type", 0, 255);
            if (r.has("icmp_code")) icode = intIn(r.get("icmp_code"), path + ".icmp_code", 0, 255);
            if (icode >= 0 && itype < 0) throw ApiException.invalid(path + ".icmp_code", "needs icmp_type");
            if (itype >= 0 && !Protocols.isIcmp(proto)) throw ApiException.invalid(path + ".icmp_type", "needs protocol icmp or icmpv6");
            IpPrefix cidr = null;
            String ref = null;
            if (r.has(cidrField) && r.has(groupField)) throw ApiException.invalid(path + "." + groupField, "give " + cidrField + " or " + groupField + ", not both");
            if (r.has(cidrField)) {
                String s = text(r.get(cidrField), path + "." + cidrField);
                try {
                    cidr = IpPrefix.parse(s);
                } catch (RuntimeException e) {
                    throw ApiException.invalid(path + "." + cidrField, "'" + clip(s) + "' is not a CIDR like 10.0.0.0/8 or ::/0");
                }
            }
            if (r.has(groupField)) {
                ref = text(r.get(groupField), path + "." + groupField);
                if (!ref.matches(NAME)) throw ApiException.invalid(path + "." + groupField, "'" + clip(ref) + "' is not 1-64 of [A-Za-z0-9_.-]");
                refs.put(path + "." + groupField, ref);
            }
            IpFamily fam = null;
            if (cidr == null && proto == Protocols.ICMP) fam = IpFamily.V4;
            if (cidr == null && proto == Protocols.ICMPV6) fam = IpFamily.V6;
            String id = project + ":" + group + "/" + (in ? "in" : "out") + i;
            try {
                out.add(new Rule(new SgRule(id, dir, fam, proto, pmin, pmax, itype, icode, cidr, ref == null ? null : project + ":" + ref), desc));
            } catch (RuleValidationException e) {
                String f = switch (e.field()) {
                    case "remoteCidr", "remote" -> cidrField;
                    case "portMin", "portMax", "ports" -> r.has("port") ? "port" : "port_range";
                    case "icmpType" -> "icmp_type";
                    case "icmpCode" -> "icmp_code";
                    default -> e.field();
                };
                throw ApiException.invalid(path + "." + f, e.reason());
            }
        }
        return out;
    }

    /** Encodes a group (rule ids {@code project:name/...}) in the document shape, with {@code name}. */
    public static ObjectNode encodeGroup(String project, String name, List<SgRule> rules, boolean cut, Descriptions d) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("name", name);
        o.put("description", d == null ? "" : d.group());
        o.put("on_rule_change", cut ? "cut" : "keep");
        ArrayNode in = o.putArray("inbound_rules");
        ArrayNode out = o.putArray("outbound_rules");
        String scope = project + ":";
        for (SgRule r : rules) {
            boolean ingress = r.direction() == Direction.INGRESS;
            ArrayNode list = ingress ? in : out;
            ObjectNode j = f.objectNode();
            String desc = d == null ? "" : d.rule(ingress, list.size());
            j.put("description", desc);
            j.put("protocol", switch (r.protocol()) {
                case Protocols.TCP -> "tcp";
                case Protocols.UDP -> "udp";
                case Protocols.ICMP -> "icmp";
                case Protocols.ICMPV6 -> "icmpv6";
                case Protocols.ANY -> "all";
                default -> Integer.toString(r.protocol());
            });
            if (r.portMin() != 0) {
                if (r.portMin() == r.portMax()) j.put("port", r.portMin());
                else j.put("port_range", r.portMin() + "-" + r.portMax());
            }
            if (r.icmpType() >= 0) j.put("icmp_type", r.icmpType());
            if (r.icmpCode() >= 0) j.put("icmp_code", r.icmpCode());
            if (r.remoteCidr() != null) j.put(ingress ? "source_cidr" : "destination_cidr", format(r.remoteCidr()));
            if (r.remoteGroup() != null) {
                String g = r.remoteGroup().startsWith(scope) ? r.remoteGroup().substring(scope.length()) : r.remoteGroup();
                j.put(ingress ? "source_group" : "destination_group", g);
            }
            if (r.remoteCidr() == null && r.remoteGroup() == null && r.family() != null && !Protocols.isIcmp(r.protocol())) {
                j.put(ingress ? "source_cidr" : "destination_cidr", r.family() == IpFamily.V4 ? "0.0.0.0/0" : "::/0");
            }
            list.add(j);
        }
        return o;
    }

    /** The descriptions of one group, kept beside the firewall's rules. */
    public record Descriptions(String group, List<String> inbound, List<String> outbound) {
        public Descriptions {
            inbound = List.copyOf(inbound);
            outbound = List.copyOf(outbound);
        }

        static Descriptions of(Group g) {
            return new Descriptions(g.description(), g.inbound().stream().map(Rule::description).toList(),
                    g.outbound().stream().map(Rule::description).toList());
        }

        String rule(boolean ingress, int i) {
            List<String> l = ingress ? inbound : outbound;
            return i < l.size() ? l.get(i) : "";
        }
    }

    static String format(IpPrefix p) {
        String a = p.family() == IpFamily.V4 ? ConfigLoader.formatIpv4((int) p.lo()) : Net.formatIpv6(p.hi(), p.lo());
        return a + "/" + p.length();
    }

    // ---- strict field readers ------------------------------------------------------------------

    static ObjectNode object(JsonNode n, String path) throws ApiException {
        if (!(n instanceof ObjectNode o)) throw ApiException.invalid(path, "must be a JSON object, not " + kind(n));
        return o;
    }

    static void fields(ObjectNode o, String prefix, Set<String> allowed) throws ApiException {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw ApiException.invalid(prefix + clip(k), "unknown field; expected one of " + new TreeSet<>(allowed));
            }
        }
    }

    static String text(JsonNode n, String path) throws ApiException {
        if (n == null || !n.isTextual()) throw ApiException.invalid(path, "must be a string, not " + kind(n));
        return n.textValue();
    }

    private static String description(ObjectNode o, String path) throws ApiException {
        String field = path.contains(".") ? path.substring(path.lastIndexOf('.') + 1) : path;
        if (!o.has(field)) return "";
        String s = text(o.get(field), path);
        if (s.length() > MAX_DESCRIPTION) throw ApiException.invalid(path, "longer than " + MAX_DESCRIPTION + " characters");
        return s;
    }

    private static int intIn(JsonNode n, String path, int min, int max) throws ApiException {
        if (n == null || !n.isIntegralNumber()) throw ApiException.invalid(path, "must be a whole number, not " + kind(n));
        if (!n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            throw ApiException.invalid(path, clip(n.asText()) + " is out of range " + min + ".." + max);
        }
        return n.intValue();
    }

    private static int port(JsonNode n, String path) throws ApiException {
        if (n == null || !n.isIntegralNumber()) throw ApiException.invalid(path, "must be a port number, not " + kind(n));
        if (!n.canConvertToInt() || n.intValue() < 1 || n.intValue() > 65535) {
            throw ApiException.invalid(path, clip(n.asText()) + " is not a port (1-65535)");
        }
        return n.intValue();
    }

    private static int port(String s, String path) throws ApiException {
        if (!s.matches("[0-9]{1,5}")) throw ApiException.invalid(path, "'" + clip(s) + "' is not a port number");
        int v = Integer.parseInt(s);
        if (v < 1 || v > 65535) throw ApiException.invalid(path, v + " is not a port (1-65535)");
        return v;
    }

    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) return "missing";
        return switch (n.getNodeType()) {
            case OBJECT -> "an object";
            case ARRAY -> "a list";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }

    /** At most 64 characters of client text in a message. */
    static String clip(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "…";
    }
}
