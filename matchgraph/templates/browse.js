(function () { "use strict"; }());
