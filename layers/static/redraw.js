/* gridgov Redraw page: a plan's draft grids edited with Leaflet-Geoman against /plans/{id}.
 * cfg comes from layers/redraw.py (RedrawEditor.config). The layer is the draft-grid
 * layer of layer.js (an L.geoJson filled from /plans/{id}/grids).
 * Every edit is one POST (reshape / split / merge / publish) with the plan's ETag in
 * If-Match and the planner's token as Bearer; then the draft, its validation and its diff
 * are read again, so a refused edit is reverted to the server's geometry.
 * Progress is recorded in window.gridgov.redraw (for people and tests alike). */
function gridgovRedraw(map, layer, cfg) {
    "use strict";
    var TOKEN_KEY = "gridgov.token";
    var state = window.gridgov;
    var rd = state.redraw = {
        plan: cfg.plan, etag: null, version: null, status: cfg.status, editable: false,
        selected: [], busy: false, refreshed: 0, message: null, error: null
    };
    var root = document.querySelector(".gg-redraw");
    function ui(name) { return root.querySelector("[data-gg=\"" + name + "\"]"); }
    function esc(v) {
        return String(v).replace(/[&<>"']/g, function (ch) {
            return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[ch];
        });
    }
    function both(zh, en) {
        return "<span class=\"gg-zh\">" + esc(zh) + "</span> <span class=\"gg-en\">" +
            esc(en) + "</span>";
    }
    function english() { return document.body.classList.contains("gg-lang-en"); }
    function token() { return window.sessionStorage.getItem(TOKEN_KEY) || ""; }
    function fmt(n) { return Math.round(n).toLocaleString("en-US"); }
    function signed(n) { return (n > 0 ? "+" : "") + fmt(n); }

    /* messages next to the map: ok (green) or a refused edit (red), bilingual labels */
    function say(kind, html) {
        var box = ui("message");
        box.className = "gg-redraw-message" + (kind ? " gg-redraw-" + kind : "");
        box.innerHTML = html || "";
    }
    function problemText(p) {
        var title = p.title || ("HTTP " + p.status);
        return p.detail ? title + ": " + p.detail : title;
    }
    function refused(p) {
        rd.error = problemText(p);
        say("error", both("操作被拒绝", "Refused") + "<div class=\"gg-redraw-detail\">" +
            esc(rd.error) + "</div>" +
            both("已恢复服务器上的图形，未丢失任何内容。",
                 "The drawing was reverted to the server's geometry; nothing was lost."));
    }

    /* HTTP: JSON in and out; a 4xx/5xx rejects with the problem+json body */
    function call(method, url, body, write) {
        var headers = {Accept: "application/json"};
        if (body !== undefined) { headers["Content-Type"] = "application/json"; }
        if (write || token()) { headers.Authorization = "Bearer " + token(); }
        if (write && rd.etag) { headers["If-Match"] = rd.etag; }
        return fetch(url, {
            method: method, headers: headers,
            body: body === undefined ? undefined : JSON.stringify(body)
        }).then(function (r) {
            return r.text().then(function (raw) {
                var data = {};
                try { data = raw ? JSON.parse(raw) : {}; } catch (e) { data = {detail: raw}; }
                if (!r.ok) {
                    data.status = data.status || r.status;
                    throw data;
                }
                var etag = r.headers.get("ETag");
                if (etag && url === cfg.api) { rd.etag = etag; }
                if (etag && write) { rd.etag = etag; }
                return data;
            });
        });
    }

    /* the plan header: status and version */
    function showPlan(plan) {
        rd.version = plan.version;
        rd.status = plan.status;
        ui("version").textContent = String(plan.version);
        ui("status").textContent = plan.status;
    }

    /* read-only or editable: Geoman's toolbar only for a planner on a draft */
    function setEditable(on) {
        on = Boolean(on) && rd.status === "draft";
        rd.editable = on;
        if (on && !map.pm.controlsVisible()) { map.pm.addControls(cfg.toolbar); }
        if (!on) {
            if (map.pm.globalEditModeEnabled()) { map.pm.disableGlobalEditMode(); }
            map.pm.disableDraw();
            if (map.pm.controlsVisible()) { map.pm.removeControls(); }
        }
        ui("publish").disabled = !on;
        showMode();
    }
    function showMode() {
        var box = ui("mode");
        box.className = "gg-redraw-mode" + (rd.editable ? " gg-redraw-editable" : " gg-redraw-readonly");
        var html;
        if (rd.status !== "draft") {
            html = both("规划已" + ({published: "发布", discarded: "放弃"}[rd.status] || rd.status) +
                        "，只读。", "This plan is " + rd.status + ": read-only.");
        } else if (!rd.editable) {
            html = both("只读：输入规划员令牌后可编辑。", "Read-only: enter a planner token to edit.");
        } else {
            html = both("可编辑：用编辑工具拖动顶点；画线分割网格；点选两个网格后合并。",
                        "Editing: drag vertices with the edit tool; draw a line to split a grid; " +
                        "click two grids, then merge.");
        }
        if (rd.selected.length) {
            html += "<div>" + both("已选", "Selected") + ": " + esc(rd.selected.join(", ")) + "</div>";
        }
        box.innerHTML = html;
    }

    /* selection (for merge and split): a click toggles a grid */
    var SELECTED = {color: "#ff7800", weight: 4, dashArray: "6 4"};
    function gridLayers() {
        var out = [];
        layer.eachLayer(function (l) { out.push(l); });
        return out;
    }
    function codeOf(l) { return ((l.feature || {}).properties || {}).code; }
    function paintSelection() {
        gridLayers().forEach(function (l) {
            layer.resetStyle(l);
            if (rd.selected.indexOf(codeOf(l)) >= 0) { l.setStyle(SELECTED); }
        });
        showMode();
    }
    function toggle(code) {
        var i = rd.selected.indexOf(code);
        if (i >= 0) { rd.selected.splice(i, 1); } else { rd.selected.push(code); }
        paintSelection();
    }

    /* the draft's grids from the server replace what is drawn (also reverting a refused edit) */
    function drawGrids(data) {
        var editing = map.pm.globalEditModeEnabled();
        if (editing) { map.pm.disableGlobalEditMode(); }
        layer.clearLayers();
        layer.addData(data);
        state.loaded[cfg.layer] = data.features.length;
        var codes = data.features.map(function (f) { return f.properties.code; });
        rd.selected = rd.selected.filter(function (c) { return codes.indexOf(c) >= 0; });
        paintSelection();
        if (editing && rd.editable) { map.pm.enableGlobalEditMode(); }
    }

    /* validation and diff panels */
    function showValidation(v) {
        var box = ui("validation");
        var rows = v.violations.slice(0, 8).map(function (f) {
            var label = cfg.rules[f.rule] || [f.rule, f.rule];
            return "<li class=\"gg-" + (f.severity === "error" ? "err" : "warn") + "\">" +
                both(label[0], label[1]) + ": " + esc(f.message) + "</li>";
        });
        var more = v.violations.length > 8 ? "<li>… " + (v.violations.length - 8) + "</li>" : "";
        box.innerHTML = "<div class=\"gg-redraw-counts\">" +
            "<span class=\"" + (v.errors ? "gg-err" : "gg-ok") + "\">" + both("错误", "Errors") +
            " " + v.errors + "</span> · <span class=\"" + (v.warnings ? "gg-warn" : "gg-ok") +
            "\">" + both("警告", "Warnings") + " " + v.warnings + "</span></div>" +
            (rows.length ? "<ul>" + rows.join("") + more + "</ul>" : "");
        box.dataset.version = String(rd.version);
    }
    function validationNeedsToken() {
        var box = ui("validation");
        box.innerHTML = both("校验需要规划员令牌。", "Validation needs a planner token.");
        delete box.dataset.version;
    }
    var STATUS = {
        added: ["新增", "Added"], retired: ["撤销", "Retired"],
        renumbered: ["重新编号", "Renumbered"], changed: ["调整", "Changed"]
    };
    function showDiff(d) {
        var box = ui("diff");
        var changed = d.grids.filter(function (g) { return g.status !== "unchanged"; });
        if (!changed.length && !d.moves.length) {
            box.innerHTML = both("尚无变更。", "No changes yet.");
        } else {
            var rows = changed.map(function (g) {
                var s = STATUS[g.status] || [g.status, g.status];
                return "<tr><td>" + esc(g.code) + "</td><td>" + both(s[0], s[1]) + "</td><td>" +
                    signed(g.area_after_m2 - g.area_before_m2) + "</td><td>" +
                    fmt(g.households_before) + " → " + fmt(g.households_after) + "</td></tr>";
            });
            box.innerHTML = "<table><tr><th>" + both("网格", "Grid") + "</th><th>" +
                both("变更", "Change") + "</th><th>" + both("面积 m²", "Area m²") + "</th><th>" +
                both("户数", "Households") + "</th></tr>" + rows.join("") + "</table>" +
                "<div>" + both("户数合计", "Households in total") + ": " +
                fmt(d.households_before) + " → " + fmt(d.households_after) + " · " +
                both("迁移", "Moves") + ": " + d.moves.length + "</div>";
        }
        box.dataset.version = String(rd.version);
    }

    /* read everything again: plan (ETag), grids, diff, and validation with a token */
    function refresh() {
        var reads = [
            call("GET", cfg.api), call("GET", cfg.grids), call("GET", cfg.api + "/diff")
        ];
        return Promise.all(reads).then(function (got) {
            showPlan(got[0]);
            drawGrids(got[1]);
            showDiff(got[2]);
            if (!token()) { setEditable(false); validationNeedsToken(); return null; }
            return call("POST", cfg.api + "/validate", undefined, false).then(function (v) {
                setEditable(true);
                showValidation(v);
            }, function (p) {
                if (p.status === 401 || p.status === 403) {
                    setEditable(false);
                    validationNeedsToken();
                    refused(p);
                    return;
                }
                throw p;
            });
        }).then(function () {
            rd.refreshed += 1;
        }).catch(function (p) {
            refused(p);
            console.error("gridgov redraw: " + problemText(p));
        });
    }

    /* one edit: POST, then read everything again (a refusal reverts the drawing) */
    function edit(op, body, done) {
        if (rd.busy) { return; }
        rd.busy = true;
        rd.error = null;
        say("busy", both("正在保存…", "Saving…"));
        call("POST", cfg.api + "/" + op, body, true).then(function (plan) {
            showPlan(plan);
            rd.message = op + " " + (body.grid || (body.grids || []).join("+") || "");
            say("ok", (op === "publish" ? both("已发布", "Published")
                                         : both("已保存", "Saved") + ": " + esc(rd.message)) +
                " → v" + plan.version);
            if (done) { done(); }
        }, function (p) {
            refused(p);
        }).then(refresh).then(function () { rd.busy = false; });
    }
    function polygonOf(l) {
        var g = l.toGeoJSON(7).geometry;
        if (g.type === "MultiPolygon" && g.coordinates.length === 1) {
            return {type: "Polygon", coordinates: g.coordinates[0]};
        }
        return g;
    }
    function inside(lnglat, geometry) {  /* even-odd rule over every ring */
        var polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
        var x = lnglat[0], y = lnglat[1], odd = false;
        polys.forEach(function (rings) {
            rings.forEach(function (ring) {
                for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
                    var a = ring[i], b = ring[j];
                    if ((a[1] > y) !== (b[1] > y) &&
                        x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) { odd = !odd; }
                }
            });
        });
        return odd;
    }
    function gridUnder(line) {  /* the grid holding the middle of a drawn line */
        var c = line.coordinates, mid;
        var k = Math.floor((c.length - 1) / 2);
        mid = [(c[k][0] + c[k + 1][0]) / 2, (c[k][1] + c[k + 1][1]) / 2];
        var found = gridLayers().filter(function (l) { return inside(mid, l.feature.geometry); });
        return found.length ? codeOf(found[0]) : null;
    }

    /* Geoman: only the draft grids are editable (opt-in); vertex edits → reshape */
    L.PM.setOptIn(true);
    map.pm.setLang(english() ? "en" : "zh");
    layer.on("layeradd", function (e) {
        var l = e.layer;
        l.options.pmIgnore = false;
        if (l.defaultOptions) { l.defaultOptions.pmIgnore = false; }  /* kept by resetStyle */
        L.PM.reInitLayer(l);
        l.on("pm:edit", function () {
            if (!rd.editable) { return; }
            edit("reshape", {grid: codeOf(l), geometry: polygonOf(l)});
        });
        l.on("click", function () {
            if (map.pm.globalEditModeEnabled() || map.pm.Draw.getActiveShape()) { return; }
            toggle(codeOf(l));
        });
    });
    map.pm.Toolbar.copyDrawControl("Line", {
        name: "gridgovSplit", block: "custom", className: "control-icon leaflet-pm-icon-cut",
        title: "分割网格（画一条穿过网格的线） Split a grid: draw a line across it"
    });
    map.pm.Toolbar.createCustomControl({
        name: "gridgovMerge", block: "custom", className: "control-icon gg-pm-merge", toggle: false,
        title: "合并所选网格 Merge the selected grids",
        onClick: function () {
            if (rd.selected.length < 2) {
                say("error", both("先点选两个相邻网格。", "Click two adjacent grids first."));
                return;
            }
            var grids = rd.selected.slice();
            edit("merge", {grids: grids}, function () { rd.selected = []; });
        }
    });
    cfg.toolbar.customControls = true;
    map.on("pm:create", function (e) {
        if (e.shape !== "gridgovSplit") { return; }
        var line = e.layer.toGeoJSON(7).geometry;
        map.removeLayer(e.layer);
        var grid = rd.selected.length === 1 ? rd.selected[0] : gridUnder(line);
        if (!grid) {
            say("error", both("线没有穿过任何网格。", "The line crosses no grid."));
            return;
        }
        edit("split", {grid: grid, line: line}, function () { rd.selected = []; });
    });
    map.pm.removeControls();  /* shown again for a planner (setEditable) */

    /* Publish: a confirm dialog, then POST with If-Match */
    ui("publish").addEventListener("click", function () {
        var question = english()
            ? "Publish plan " + cfg.plan + "? Its grids replace the live grids of its communities."
            : "发布规划 " + cfg.plan + "？其网格将替换所属社区的现行网格。";
        if (!window.confirm(question)) { return; }
        edit("publish", {});
    });

    /* the token box: kept in this tab's sessionStorage, sent as Bearer */
    ui("token").value = token();
    ui("use-token").addEventListener("click", function () {
        var value = ui("token").value.trim();
        if (value) { window.sessionStorage.setItem(TOKEN_KEY, value); }
        else { window.sessionStorage.removeItem(TOKEN_KEY); }
        say("", "");
        refresh();
    });
    ui("forget-token").addEventListener("click", function () {
        window.sessionStorage.removeItem(TOKEN_KEY);
        ui("token").value = "";
        say("", "");
        refresh();
    });
    L.DomEvent.disableClickPropagation(root);
    L.DomEvent.disableScrollPropagation(root);

    /* Geoman's tooltips follow the page's language switch */
    new MutationObserver(function () { map.pm.setLang(english() ? "en" : "zh"); })
        .observe(document.body, {attributes: true, attributeFilter: ["class"]});

    /* start once layer.js has drawn the draft (then every refresh replaces it) */
    (function wait() {
        if (state.loaded[cfg.layer] !== undefined) { refresh(); return; }
        if (state.errors.some(function (e) { return e.indexOf(cfg.layer + ":") === 0; })) { return; }
        window.setTimeout(wait, 50);
    })();
}
