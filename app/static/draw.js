/* A small polygon drawing control for Leaflet, written for capmap.
 *
 * "Draw an area" starts drawing: each click on the map adds a corner ("Add corner at centre" adds
 * the point at the middle of the map, for keyboard users who move the map with the arrow keys).
 * "Undo" removes the last corner, "Clear" removes them all, "Finish" hands the polygon, as a
 * GeoJSON Polygon in longitude/latitude, to options.onFinish. Every button is a real <button>,
 * so it can be reached with Tab and pressed with Enter or Space. Every label and message comes
 * from options.texts (the page's words; "{n}" stands for a number of corners).
 */
(function (L) {
  "use strict";
  if (!L) { return; }

  L.Control.CapmapDraw = L.Control.extend({
    options: {
      position: "topright",
      onFinish: null,         // function (geojsonPolygon)
      announce: null,         // function (message) for a live region
      texts: {},              // the labels and messages, by key (see the finder page)
      style: {color: "#d55e00", weight: 3, dashArray: "6 4", fillOpacity: 0.1}
    },

    onAdd: function (map) {
      this._map = map;
      this._corners = [];
      this._active = false;
      var box = L.DomUtil.create("div", "leaflet-bar capmap-draw");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", this._text("group"));
      this._toggle = this._button(box, this._text("start"), this._toggleDrawing);
      this._toggle.setAttribute("aria-pressed", "false");
      this._centre = this._button(box, this._text("centre"), this._addCentre);
      this._undo = this._button(box, this._text("undo"), this._undoCorner);
      this._clear = this._button(box, this._text("clear"), this._clearCorners);
      this._finish = this._button(box, this._text("finish"), this._finishDrawing);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._shape = L.polygon([], this.options.style).addTo(map);
      this._dots = L.layerGroup().addTo(map);
      map.on("click", this._onClick, this);
      this._refresh();
      return box;
    },

    onRemove: function (map) {
      map.off("click", this._onClick, this);
      map.removeLayer(this._shape);
      map.removeLayer(this._dots);
    },

    _text: function (key, n) {
      var text = this.options.texts[key] || key;
      return n === undefined ? text : text.replace("{n}", String(n));
    },

    /* True while clicks on the map add corners. */
    isDrawing: function () { return this._active; },

    _button: function (box, label, handler) {
      var button = L.DomUtil.create("button", "capmap-draw-button", box);
      button.type = "button";
      button.textContent = label;
      L.DomEvent.on(button, "click", function (event) {
        L.DomEvent.stop(event);
        handler.call(this);
      }, this);
      return button;
    },

    _say: function (message) {
      if (this.options.announce) { this.options.announce(message); }
    },

    _toggleDrawing: function () {
      this._active = !this._active;
      this._map.getContainer().classList.toggle("capmap-drawing", this._active);
      this._say(this._active
        ? this._text("drawing") : this._text("paused"));
      this._refresh();
    },

    _onClick: function (event) {
      if (this._active) { this._add(event.latlng); }
    },

    _addCentre: function () {
      if (!this._active) { this._toggleDrawing(); }
      this._add(this._map.getCenter());
    },

    _add: function (latlng) {
      this._corners.push(latlng);
      L.circleMarker(latlng, {radius: 4, color: this.options.style.color, fillOpacity: 1})
        .addTo(this._dots);
      this._say(this._text("added", this._corners.length));
      this._refresh();
    },

    _undoCorner: function () {
      if (!this._corners.length) { return; }
      this._corners.pop();
      var dots = this._dots.getLayers();
      this._dots.removeLayer(dots[dots.length - 1]);
      this._say(this._text("left", this._corners.length));
      this._refresh();
    },

    _clearCorners: function () {
      this._corners = [];
      this._dots.clearLayers();
      this._say(this._text("cleared"));
      this._refresh();
    },

    _finishDrawing: function () {
      if (this._corners.length < 3) {
        this._say(this._text("too_few", this._corners.length));
        return;
      }
      var ring = this._corners.map(function (p) {
        return [Number(p.lng.toFixed(6)), Number(p.lat.toFixed(6))];
      });
      ring.push(ring[0].slice());
      this._active = false;
      this._refresh();
      if (this.options.onFinish) {
        this._say(this._text("finding"));
        this.options.onFinish({type: "Polygon", coordinates: [ring]});
      }
    },

    _refresh: function () {
      this._shape.setLatLngs(this._corners);
      this._toggle.textContent = this._text(this._active ? "stop" : "start");
      this._toggle.setAttribute("aria-pressed", this._active ? "true" : "false");
      this._undo.disabled = this._clear.disabled = this._corners.length === 0;
      this._finish.disabled = this._corners.length < 3;
    }
  });

  L.control.capmapDraw = function (options) { return new L.Control.CapmapDraw(options); };
}(window.L));
