// Layer 2 for containers: names, image, ports, env and envFrom, volume mounts, probes,
// resources and security context of each container of a pod spec.

package main

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateContainer(c *corev1.Container, p *field.Path, volumes, podPorts map[string]bool, regular bool) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(c.Name) {
		errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, []string{"Always", "IfNotPresent", "Never"}))
	}

	ports := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
		}
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if podPorts[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			podPorts[port.Name] = true
			ports[port.Name] = true
		}
		switch port.Protocol {
		case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, []string{"TCP", "UDP", "SCTP"}))
		}
	}

	envNames := map[string]bool{}
	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
		}
		if envNames[e.Name] {
			errs = append(errs, field.Duplicate(ep.Child("name"), e.Name))
		}
		envNames[e.Name] = true
		if e.ValueFrom != nil {
			if e.Value != "" {
				errs = append(errs, field.Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
			}
			n := 0
			if f := e.ValueFrom.FieldRef; f != nil {
				n++
				if f.FieldPath == "" {
					errs = append(errs, field.Required(ep.Child("valueFrom", "fieldRef", "fieldPath"), ""))
				}
			}
			if e.ValueFrom.ResourceFieldRef != nil {
				n++
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				n++
				errs = append(errs, validateKeyRef(r.Name, r.Key, ep.Child("valueFrom", "configMapKeyRef"))...)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				n++
				errs = append(errs, validateKeyRef(r.Name, r.Key, ep.Child("valueFrom", "secretKeyRef"))...)
			}
			if n != 1 {
				errs = append(errs, field.Invalid(ep.Child("valueFrom"), n, "must have exactly one source"))
			}
		}
	}
	for i, e := range c.EnvFrom {
		if (e.ConfigMapRef == nil) == (e.SecretRef == nil) {
			errs = append(errs, field.Invalid(p.Child("envFrom").Index(i), "", "must have exactly one of configMapRef and secretRef"))
		}
	}

	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if !volumes[m.Name] {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		}
		if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
	}

	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if !regular {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "init containers have no probes"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name != "readinessProbe", ports, p.Child(pr.name))...)
	}

	for name, limit := range c.Resources.Limits {
		if req, ok := c.Resources.Requests[name]; ok && req.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(name)), req.String(), "must be less than or equal to "+string(name)+" limit of "+limit.String()))
		}
	}
	for name, q := range c.Resources.Requests {
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(name)), q.String(), "must be >= 0"))
		}
	}

	if sc := c.SecurityContext; sc != nil {
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, field.Invalid(p.Child("securityContext"), "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(p.Child("securityContext", "runAsUser"), 0, "runAsNonRoot with user 0"))
		}
	}
	return errs
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

func validateProbe(pr *corev1.Probe, successMustBeOne bool, ports map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	handlers := 0
	if pr.Exec != nil {
		handlers++
	}
	if pr.GRPC != nil {
		handlers++
	}
	if pr.TCPSocket != nil {
		handlers++
		errs = append(errs, validateProbePort(pr.TCPSocket.Port, ports, p.Child("tcpSocket", "port"))...)
	}
	if pr.HTTPGet != nil {
		handlers++
		errs = append(errs, validateProbePort(pr.HTTPGet.Port, ports, p.Child("httpGet", "port"))...)
		if !strings.HasPrefix(pr.HTTPGet.Path, "/") && pr.HTTPGet.Path != "" {
			errs = append(errs, field.Invalid(p.Child("httpGet", "path"), pr.HTTPGet.Path, "must start with /"))
		}
		switch pr.HTTPGet.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			errs = append(errs, field.NotSupported(p.Child("httpGet", "scheme"), pr.HTTPGet.Scheme, []string{"HTTP", "HTTPS"}))
		}
	}
	if handlers != 1 {
		errs = append(errs, field.Invalid(p, handlers, "must have exactly one handler"))
	}
	for name, v := range map[string]int32{"initialDelaySeconds": pr.InitialDelaySeconds, "timeoutSeconds": pr.TimeoutSeconds,
		"periodSeconds": pr.PeriodSeconds, "successThreshold": pr.SuccessThreshold, "failureThreshold": pr.FailureThreshold} {
		if v < 0 {
			errs = append(errs, field.Invalid(p.Child(name), v, "must be >= 0"))
		}
	}
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

// validateProbePort: a number in range, or the name of one of the container's own ports
// (the API accepts any valid name; the kubelet fails the probe if the container has none).
func validateProbePort(port intstr.IntOrString, ports map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(p, port.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		errs = append(errs, field.Invalid(p, port.StrVal, msg))
	}
	if !ports[port.StrVal] {
		errs = append(errs, field.NotFound(p, port.StrVal))
	}
	return errs
}
